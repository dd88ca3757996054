/*
 * hex.h - parsing of the CLI's textual input: instruction bytes written in
 * hex and numbers. Every failure fills a message that names the argument
 * and the position, so the user can find the mistake.
 */
#ifndef RCT_HEX_H
#define RCT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Parse hex bytes from 'nargs' strings (each one command-line argument).
 * Whitespace separates groups; within a group the digits pair up into
 * bytes, so a group must have an even number of digits ("48c7c0 05" is
 * fine, "4 8" is not). Appends at most 'cap' bytes to 'out', sets *len.
 * Returns 0 on success, -1 with a message in err (which names the argument
 * number, 1-based, and the character position, 1-based) otherwise. Empty
 * input (no digits at all) is an error too. */
int rct_hex_parse(const char *const *args, int nargs, uint8_t *out, size_t cap, size_t *len,
                  char *err, size_t errlen);

/* Parse an unsigned number: "0x" hex, "0b" binary, or decimal; a leading
 * '-' gives the two's complement. Underscores between digits are allowed
 * (0xffff_8000_0000_0000). Returns 0 or -1 with a message in err. */
int rct_parse_u64(const char *s, uint64_t *out, char *err, size_t errlen);

#endif /* RCT_HEX_H */
