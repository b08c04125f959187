/*
 * api.h - ESL_API, the mark of a function that libesl exports.
 *
 * libesl is compiled with hidden visibility: a function is in libesl.so's
 * dynamic symbol table only when its declaration in a public header carries
 * ESL_API, so the library's internals (esl__*, a module's helpers) stay
 * inside it. tests/abi checks the exported names. A program built against
 * the static library sees no difference.
 */
#ifndef ESL_API_H
#define ESL_API_H

#if defined(__GNUC__) || defined(__clang__)
#define ESL_API __attribute__((visibility("default")))
#else
#define ESL_API
#endif

#endif
