# Every third-party library esl uses, found once here so that each module's
# CMakeLists only links the imported targets it needs.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson>=2.10)   # JSON (model descriptions, law files)
find_package(GSL 2.5 REQUIRED)                                       # regression, statistics, RNG
find_package(SQLite3 REQUIRED)                                       # the run store

# libcsv ships neither a pkg-config file nor a CMake package.
find_path(CSV_INCLUDE_DIR csv.h REQUIRED)
find_library(CSV_LIBRARY csv REQUIRED)
add_library(esl_dep_csv INTERFACE)
target_include_directories(esl_dep_csv INTERFACE ${CSV_INCLUDE_DIR})
target_link_libraries(esl_dep_csv INTERFACE ${CSV_LIBRARY})

pkg_check_modules(PLPLOT IMPORTED_TARGET plplot)                     # figures (optional at build time)
set(ESL_PC_PLPLOT "")                                                # for esl.pc: Requires.private
if(PLPLOT_FOUND)
  set(ESL_PC_PLPLOT " plplot")
endif()
if(BUILD_TESTING)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)          # unit tests
endif()

# CUDA is optional: the synthetic workload is built only where a toolkit exists.
set(ESL_HAVE_CUDA OFF)
if(ESL_CUDA)
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(ESL_HAVE_CUDA ON)
  endif()
endif()
