/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_XMLCHAR_H
#define HOSTUSB_XMLCHAR_H
/*
 * XML's characters, as the tokenizer (xmltok.c) tells them apart: classes
 * of ASCII bytes, name characters beyond ASCII, Char, PubidChar; the code
 * point of a UTF-8 character and back.  Inline: the tokenizer's loops over
 * bytes use them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* C_PLAIN: a name character other than ':' (which the tokenizer looks at alone) */
enum { C_WS = 1, C_NAME_START = 2, C_NAME = 4, C_DIGIT = 8, C_HEX = 16, C_COLON = 32, C_PLAIN = 64 };
#define NS (C_NAME_START | C_NAME | C_PLAIN)
/* ASCII only: name characters beyond it are told by name_char_len(). */
static const unsigned char char_class[256] = {
	['\t'] = C_WS, ['\n'] = C_WS, ['\r'] = C_WS, [' '] = C_WS,
	['-'] = C_NAME | C_PLAIN, ['.'] = C_NAME | C_PLAIN, [':'] = C_NAME_START | C_NAME | C_COLON, ['_'] = NS,
	['0' ... '9'] = C_NAME | C_PLAIN | C_DIGIT | C_HEX,
	['A' ... 'F'] = NS | C_HEX, ['G' ... 'Z'] = NS,
	['a' ... 'f'] = NS | C_HEX, ['g' ... 'z'] = NS,
};
#undef NS

/* PubidChar, production [13], but for the quotes */
static inline bool is_pubid_char(unsigned char b)
{
	return b == ' ' || b == '\r' || b == '\n' || (b < 0x80 && (char_class[b] & (C_DIGIT | C_NAME_START)) && b != ':') ||
	       (b && strchr("-'()+,./:=?;!*#@$_%", b));
}

static inline bool is_class(unsigned char c, unsigned cls)
{
	return (char_class[c] & cls) != 0;
}

/* The code point of the whole, valid UTF-8 character at s, of *len bytes. */
static inline uint32_t decode_utf8(const unsigned char *s, size_t *len)
{
	if (s[0] < 0xE0) {
		*len = 2;
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0) {
		*len = 3;
		return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	*len = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
	       (s[3] & 0x3F);
}

/* NameStartChar beyond ASCII, XML 1.0 fifth edition, production [4]. */
static inline bool is_name_start_code(uint32_t c)
{
	return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
	       (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || c == 0x200C || c == 0x200D ||
	       (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
	       (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

/* Bytes of the name character beyond ASCII at s, or 0; production [4a] unless start. */
__attribute__((noinline, unused)) static size_t name_char_len_utf8(const unsigned char *s, bool start)
{
	size_t len;
	uint32_t c = decode_utf8(s, &len);
	if (is_name_start_code(c))
		return len;
	bool inner = c == 0xB7 || (c >= 0x300 && c <= 0x36F) || c == 0x203F || c == 0x2040;
	return !start && inner ? len : 0;
}

/*
 * Bytes of the name character at s (a whole character: io_validate() stops
 * before a cut one), or 0 if it is not one; start: a NameStartChar.
 */
static inline size_t name_char_len(const unsigned char *s, bool start)
{
	if (s[0] < 0x80)
		return is_class(s[0], start ? C_NAME_START : C_NAME);
	return name_char_len_utf8(s, start);
}

/* The value of a hexadecimal digit. */
/* Char, production [2]. */
static inline bool is_xml_char(unsigned long ch)
{
	return ch == 0x9 || ch == 0xA || ch == 0xD || (ch >= 0x20 && ch <= 0xD7FF) || (ch >= 0xE000 && ch <= 0xFFFD) ||
	       (ch >= 0x10000 && ch <= 0x10FFFF);
}

/* Writes ch (at most U+10FFFF) in UTF-8 to out: its length. */
static inline size_t utf8_encode(unsigned long ch, unsigned char out[4])
{
	if (ch < 0x80) {
		out[0] = (unsigned char)ch;
		return 1;
	}
	size_t n = ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4;
	for (size_t i = n - 1; i > 0; i--, ch >>= 6)
		out[i] = (unsigned char)(0x80 | (ch & 0x3F));
	out[0] = (unsigned char)((n == 2 ? 0xC0 : n == 3 ? 0xE0 : 0xF0) | ch);
	return n;
}

#endif
