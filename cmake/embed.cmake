# Turns the built-in model descriptions (data/models/*.json) into a C source
# file so that the catalogue travels inside libesl. Run as
#   cmake -DOUT=file.c -DFILES="a.json|b.json" -P embed.cmake
set(body "/* Generated from data/models by cmake/embed.cmake: do not edit. */\n#include <stddef.h>\n#include \"model/catalog_builtin.h\"\n")
set(table "const esl_builtin_model esl__builtin_models[] = {\n")
set(i 0)
string(REPLACE "|" ";" FILES "${FILES}")
# Sorted by model name (the file stem), so that "sdxl" comes before
# "sdxl-turbo" as strcmp orders them ("sdxl-turbo.json" sorts first by path);
# "!" sorts below every character a model name may hold.
set(keyed "")
foreach(f IN LISTS FILES)
  get_filename_component(name "${f}" NAME_WE)
  list(APPEND keyed "${name}!${f}")
endforeach()
list(SORT keyed)
foreach(entry IN LISTS keyed)
  string(REGEX REPLACE "^[^!]*!" "" f "${entry}")
  get_filename_component(name "${f}" NAME_WE)
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char model_${i}[] = {${hex}0x00};\n")
  string(APPEND table "  {\"${name}\", model_${i}, sizeof model_${i} - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND table "};\nconst size_t esl__builtin_model_count = ${i};\n")
file(WRITE "${OUT}.tmp" "${body}${table}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
