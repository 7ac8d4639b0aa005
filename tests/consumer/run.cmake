# ctest driver: install the build tree into a scratch prefix, configure and build the
# consumer project against it, run it; then build the example program examples/cpp
# (clean_epochs) against the same prefix and run it on the fixture of make_fixture.py.
# Variables: BUILD_DIR, SOURCE_DIR (tests/consumer), WORK_DIR, GENERATOR; EXAMPLE_DIR
# (optional, default SOURCE_DIR/../../examples/cpp).
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
# configures and builds the project in `source` against the scratch install
function(build_against_install source binary what)
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${source}" -B "${binary}" -G "${GENERATOR}"
                          "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring ${what} against the install failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build "${binary}" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building ${what} against the install failed: ${rc}")
  endif()
endfunction()

build_against_install("${SOURCE_DIR}" "${WORK_DIR}/build" "the consumer")
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
if(NOT EXISTS "${WORK_DIR}/prefix/lib/pkgconfig/autoreject_cpp.pc" AND
   NOT EXISTS "${WORK_DIR}/prefix/lib64/pkgconfig/autoreject_cpp.pc")
  message(FATAL_ERROR "the pkg-config file was not installed")
endif()

# --- the example program ---------------------------------------------------------------
if(NOT EXAMPLE_DIR)
  get_filename_component(EXAMPLE_DIR "${SOURCE_DIR}/../../examples/cpp" ABSOLUTE)
endif()
file(GLOB_RECURSE config_files "${WORK_DIR}/prefix/*/autoreject_cppConfig.cmake")
list(GET config_files 0 config_file)
file(STRINGS "${config_file}" have_io REGEX "set\\(AUTOREJECT_CPP_HAVE_IO ON\\)")
if(NOT have_io)
  message(STATUS "autoreject_cpp was built without zlib (no autoreject::io): the example "
                 "program clean_epochs is not built")
  return()
endif()

build_against_install("${EXAMPLE_DIR}" "${WORK_DIR}/example-build" "examples/cpp")
set(clean_epochs "${WORK_DIR}/example-build/clean_epochs")
set(fixture "${SOURCE_DIR}/fixture")
set(out "${WORK_DIR}/example-out")

# make_fixture.py planted a whole-head artifact in epochs 4, 13 and 25 (no channel can be
# repaired from the others: they must be dropped, and only they) and white noise on FC2
# (RANSAC's only bad channel)
execute_process(COMMAND "${clean_epochs}" --epochs "${fixture}/epochs.npy"
                        --channels "${fixture}/channels.csv" --out "${out}" --random-state 42
                        --ransac
                RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
message(STATUS "clean_epochs on the fixture:\n${stdout}${stderr}")
if(rc)
  message(FATAL_ERROR "clean_epochs failed on the fixture: ${rc}")
endif()
foreach(line "ransac bad channels: FC2\n" "dropped epochs: 4 13 25\n" "kept 27 of 30 epochs\n"
             "eeg: consensus ")
  string(FIND "${stdout}" "${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "clean_epochs did not print '${line}'")
  endif()
endforeach()
foreach(name clean.npy labels.npy bad_epochs.npy kept.npy thresholds.csv)
  if(NOT EXISTS "${out}/${name}")
    message(FATAL_ERROR "clean_epochs did not write ${name}")
  endif()
endforeach()
# 27 kept epochs x 17 channels x 64 float32 samples after a 128-byte header
file(SIZE "${out}/clean.npy" size)
if(NOT size EQUAL 117632)
  message(FATAL_ERROR "clean.npy holds ${size} bytes, not 128 + 27 * 17 * 64 * 4 = 117632")
endif()
# thresholds.csv: the header and the 15 EEG channels RANSAC left
file(STRINGS "${out}/thresholds.csv" rows)
list(LENGTH rows n_rows)
list(GET rows 0 header)
if(NOT header STREQUAL "name,threshold" OR NOT n_rows EQUAL 16)
  message(FATAL_ERROR "thresholds.csv: header '${header}' and ${n_rows} lines, expected "
                      "'name,threshold' and 16 lines")
endif()

# input errors: exit status 2 with a message naming the problem
function(expect_input_error what pattern)
  execute_process(COMMAND "${clean_epochs}" ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  if(NOT rc EQUAL 2)
    message(FATAL_ERROR "clean_epochs (${what}) exited with ${rc}, expected 2:\n${stderr}")
  endif()
  if(NOT stderr MATCHES "${pattern}")
    message(FATAL_ERROR "clean_epochs (${what}) said:\n${stderr}\nexpected /${pattern}/")
  endif()
endfunction()
expect_input_error("no --channels" "--epochs, --channels and --out are required"
                   --epochs "${fixture}/epochs.npy" --out "${out}")
file(WRITE "${WORK_DIR}/columns.csv" "name,type,x,y,z,bad\nA,eeg,0,0,1,0\nB,eeg,0,1,0\n")
expect_input_error("wrong column count" "columns.csv, line 3: 5 columns, expected 6"
                   --epochs "${fixture}/epochs.npy" --channels "${WORK_DIR}/columns.csv"
                   --out "${out}")
file(WRITE "${WORK_DIR}/number.csv" "name,type,x,y,z,bad\nA,eeg,0,0,1,0\nB,eeg,0,1x,0,0\n")
expect_input_error("bad number" "number.csv, line 3, column y: '1x' is not a number"
                   --epochs "${fixture}/epochs.npy" --channels "${WORK_DIR}/number.csv"
                   --out "${out}")
file(WRITE "${WORK_DIR}/twice.csv" "name,type,x,y,z,bad\nA,eeg,0,0,1,0\nA,eeg,0,1,0,0\n")
expect_input_error("duplicate name" "twice.csv, line 3: the channel name 'A' was already given on line 2"
                   --epochs "${fixture}/epochs.npy" --channels "${WORK_DIR}/twice.csv"
                   --out "${out}")
file(WRITE "${WORK_DIR}/short.csv" "name,type,x,y,z,bad\nA,eeg,0,0,1,0\nB,eeg,0,1,0,0\n")
expect_input_error("channel count" "lists 2 channels but .*epochs.npy' holds 17"
                   --epochs "${fixture}/epochs.npy" --channels "${WORK_DIR}/short.csv"
                   --out "${out}")
