# Dependencies of autoreject_cpp: OpenMP from the compiler; the CUDA Toolkit is
# detected for the CUDA backend (its kernels arrive with the CUDA backend issue).
include(GNUInstallDirs)

set(AUTOREJECT_HAVE_OPENMP OFF)
if(AUTOREJECT_WITH_OPENMP)
  find_package(OpenMP COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(AUTOREJECT_HAVE_OPENMP ON)
  else()
    message(WARNING "AUTOREJECT_WITH_OPENMP is ON but the compiler has no OpenMP: "
                    "the openmp backend will report itself unavailable")
  endif()
endif()
message(STATUS "autoreject_cpp: OpenMP backend ${AUTOREJECT_HAVE_OPENMP}")

# Eigen 3 (header-only) for the spherical-spline interpolation matrices
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
message(STATUS "autoreject_cpp: Eigen ${Eigen3_VERSION}")
