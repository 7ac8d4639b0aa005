# The CUDA backend: finds nvcc (AUTOREJECT_WITH_CUDA = AUTO | ON | OFF | EMULATE), enables
# the CUDA language and defines the object library autoreject_cuda (src/cuda/kernels.cu),
# which CMakeLists.txt adds to the library. Sets AUTOREJECT_HAVE_CUDA (and
# AUTOREJECT_CUDA_EMULATION for EMULATE).
#
# EMULATE is for testing without a GPU, never for use: the host compiler builds the same
# kernels.cu against an emulated runtime (src/cuda/emulation) whose device is host memory
# and whose grids run serially, so the backend's chunking, retries, copies and device
# loops run in the C++ tests. The cuda backend is then always available.
#
# Bit equality with the CPU backends: no fused multiply-add (--fmad=false), IEEE division
# and square root, no flush to zero, no fast math. The runtime is linked statically
# (CUDA::cudart_static), so loading the library needs no libcudart; the driver
# (libcuda.so.1) is looked up at run time by src/backend.cpp.
include(CheckLanguage)

set(AUTOREJECT_HAVE_CUDA OFF)
set(AUTOREJECT_CUDA_EMULATION OFF)
string(TOUPPER "${AUTOREJECT_WITH_CUDA}" _autoreject_cuda_mode)
if(_autoreject_cuda_mode MATCHES "^(ON|YES|TRUE|1)$")
  set(_autoreject_cuda_mode ON)
elseif(_autoreject_cuda_mode MATCHES "^(OFF|NO|FALSE|0)$")
  set(_autoreject_cuda_mode OFF)
elseif(NOT _autoreject_cuda_mode MATCHES "^(AUTO|EMULATE)$")
  message(FATAL_ERROR "AUTOREJECT_WITH_CUDA = '${AUTOREJECT_WITH_CUDA}' is not one of AUTO, ON, "
                      "OFF, EMULATE; pass -DAUTOREJECT_WITH_CUDA=AUTO (build it when nvcc is "
                      "found), ON, OFF, or EMULATE (tests only: the kernels on an emulated GPU)")
endif()

if(_autoreject_cuda_mode STREQUAL "EMULATE")
  set(AUTOREJECT_HAVE_CUDA ON)
  set(AUTOREJECT_CUDA_EMULATION ON)
  message(WARNING "autoreject_cpp: AUTOREJECT_WITH_CUDA=EMULATE: the 'cuda' backend runs on an "
                  "emulated GPU on the host, serially. This build is for testing the CUDA "
                  "backend without a GPU; it is slow and must not be installed or shipped.")
  add_library(autoreject_cuda OBJECT ${PROJECT_SOURCE_DIR}/src/cuda/emulation/kernels_emulated.cpp
              ${PROJECT_SOURCE_DIR}/src/cuda/emulation/runtime.cpp)
  target_include_directories(autoreject_cuda BEFORE PRIVATE
                             ${PROJECT_SOURCE_DIR}/src/cuda/emulation)
  target_include_directories(autoreject_cuda PRIVATE ${PROJECT_SOURCE_DIR}/include
                             ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(autoreject_cuda PRIVATE AUTOREJECT_HAVE_CUDA=1
                             AUTOREJECT_CUDA_EMULATION=1 AUTOREJECT_ISA=isa_cuda)
  # (kernels.cu's anonymous namespace reaches GCC through an #include: -Wsubobject-linkage
  # would flag every lambda that captures one of its types)
  target_compile_options(autoreject_cuda PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-ffp-contract=off -fno-fast-math>
    $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
  if(AUTOREJECT_SANITIZE)
    target_compile_options(autoreject_cuda PRIVATE -fsanitize=address,undefined
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
  endif()
  return()
endif()

if(NOT _autoreject_cuda_mode STREQUAL "OFF")
  # nvcc where the CUDA Toolkit installs it, also when it is not on PATH: an nvcc on PATH
  # is used when it sits in a toolkit (nvcc.profile beside it); otherwise (none, or a
  # wrapper script, which CMake fails to identify) /usr/local/cuda/bin/nvcc when present
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(_autoreject_nvcc nvcc NO_CMAKE_PATH NO_CMAKE_ENVIRONMENT_PATH
                 NO_CMAKE_SYSTEM_PATH)
    set(_autoreject_nvcc_in_toolkit OFF)
    if(_autoreject_nvcc)
      get_filename_component(_autoreject_nvcc_dir "${_autoreject_nvcc}" DIRECTORY)
      if(EXISTS "${_autoreject_nvcc_dir}/nvcc.profile")
        set(_autoreject_nvcc_in_toolkit ON)
      endif()
    endif()
    if(NOT _autoreject_nvcc_in_toolkit AND EXISTS "/usr/local/cuda/bin/nvcc")
      set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc" CACHE FILEPATH "CUDA compiler")
    endif()
    unset(_autoreject_nvcc CACHE)
  endif()
  # the data-centre GPUs of the last generations unless the user chose (overridable)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
    set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures to build for")
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(CUDAToolkit_FOUND AND TARGET CUDA::cudart_static)
      set(AUTOREJECT_HAVE_CUDA ON)
      # the toolkit the installed package's consumers look for first
      get_filename_component(AUTOREJECT_CUDA_TOOLKIT_ROOT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
    elseif(_autoreject_cuda_mode STREQUAL "ON")
      message(FATAL_ERROR "AUTOREJECT_WITH_CUDA is ON and nvcc (${CMAKE_CUDA_COMPILER}) was "
                          "found, but not the CUDA Toolkit's static runtime (cudart_static); "
                          "set CUDAToolkit_ROOT to the toolkit, or pass -DAUTOREJECT_WITH_CUDA=OFF")
    else()
      message(STATUS "autoreject_cpp: nvcc found but not the CUDA Toolkit's cudart_static: "
                     "the CUDA backend is not built")
    endif()
  elseif(_autoreject_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "AUTOREJECT_WITH_CUDA is ON but no CUDA compiler was found; install the "
                        "CUDA Toolkit, put nvcc on PATH or pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc, "
                        "or configure with -DAUTOREJECT_WITH_CUDA=OFF (or AUTO)")
  endif()
endif()
message(STATUS "autoreject_cpp: CUDA backend ${AUTOREJECT_HAVE_CUDA}")

if(AUTOREJECT_HAVE_CUDA)
  message(STATUS "autoreject_cpp: CUDA ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
                 "${CMAKE_CUDA_ARCHITECTURES}")
  add_library(autoreject_cuda OBJECT ${PROJECT_SOURCE_DIR}/src/cuda/kernels.cu)
  target_include_directories(autoreject_cuda PRIVATE ${PROJECT_SOURCE_DIR}/include
                             ${PROJECT_SOURCE_DIR}/src)
  # the kernels' inline helpers in a namespace of their own (as each instruction set's
  # build has): nvcc's host copies of them are not the host compiler's vectorised ones
  target_compile_definitions(autoreject_cuda PRIVATE AUTOREJECT_HAVE_CUDA=1 AUTOREJECT_ISA=isa_cuda)
  set_target_properties(autoreject_cuda PROPERTIES
    CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_EXTENSIONS OFF
    POSITION_INDEPENDENT_CODE ON CUDA_SEPARABLE_COMPILATION OFF)
  target_compile_options(autoreject_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false --prec-div=true --prec-sqrt=true --ftz=false
      --expt-relaxed-constexpr -Xcompiler=-ffp-contract=off,-fno-fast-math>)
  target_link_libraries(autoreject_cuda PRIVATE CUDA::cudart_static)
endif()
