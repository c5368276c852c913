/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_FORMAT_H
#define HOSTUSB_FORMAT_H
/*
 * snprintf for the conversions this program prints, without the C library's
 * printf, which brings floating point, wide characters and stdio along: about
 * 10 KiB of a static musl binary, which must stay within 96 KiB.
 *
 *   flags '-' and '0', a decimal width, a precision ".*" (strings),
 *   conversions s, d (an int), u o x X (unsigned, "l" unsigned long, "z"
 *   size_t) and %%.
 *
 * Returns what snprintf returns: the length of the whole text (buf holds at
 * most size - 1 bytes of it and its NUL), or -1 with buf "" for any other
 * conversion.  The compiler checks arguments against the format as for
 * printf.
 *
 * Defined once, in format.c: each program built from these sources (hostusb,
 * the unit tests, the fuzz targets) compiles it under its own flags and links
 * it once; a second definition of either name is a link error.
 */
#include <stdarg.h>
#include <stddef.h>

__attribute__((format(printf, 3, 0)))
int vformat(char *buf, size_t size, const char *fmt, va_list ap);

__attribute__((format(printf, 3, 4)))
int format(char *buf, size_t size, const char *fmt, ...);

#endif
