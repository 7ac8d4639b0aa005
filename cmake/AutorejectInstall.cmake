# Install rules: `cmake --install` puts the headers, the library, a CMake package
# (find_package(autoreject_cpp) -> autoreject::autoreject, and autoreject::io when built with
# zlib) and a pkg-config file.
include(CMakePackageConfigHelpers)

set(AUTOREJECT_EXPORTED_TARGETS autoreject)
set(AUTOREJECT_CPP_HAVE_IO OFF)
if(TARGET autoreject_io)  # autoreject::io, when zlib was found
  list(APPEND AUTOREJECT_EXPORTED_TARGETS autoreject_io)
  set(AUTOREJECT_CPP_HAVE_IO ON)
endif()
install(TARGETS ${AUTOREJECT_EXPORTED_TARGETS} EXPORT autoreject_cppTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/autoreject DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT autoreject_cppTargets NAMESPACE autoreject::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/autoreject_cpp)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/autoreject_cppConfig.cmake.in
  ${PROJECT_BINARY_DIR}/autoreject_cppConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/autoreject_cpp)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/autoreject_cppConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/autoreject_cppConfig.cmake
              ${PROJECT_BINARY_DIR}/autoreject_cppConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/autoreject_cpp)
set(AUTOREJECT_PC_LIBS "-lautoreject_cpp")
if(AUTOREJECT_HAVE_OPENMP)
  set(AUTOREJECT_PC_CFLAGS "-DAUTOREJECT_HAVE_OPENMP=1 -fopenmp -ffp-contract=off")
  string(APPEND AUTOREJECT_PC_LIBS " -fopenmp")
else()
  set(AUTOREJECT_PC_CFLAGS "-ffp-contract=off")
endif()
if(AUTOREJECT_HAVE_CUDA)  # the CUDA backend: its static runtime and dlopen
  string(APPEND AUTOREJECT_PC_CFLAGS " -DAUTOREJECT_HAVE_CUDA=1")
  string(APPEND AUTOREJECT_PC_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -lrt -lpthread -ldl")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/autoreject_cpp.pc.in
               ${PROJECT_BINARY_DIR}/autoreject_cpp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/autoreject_cpp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
