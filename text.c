/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared text rules; see text.h. */
#include "text.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "format.h"

int text_decimal(const char *text, size_t len, unsigned max, unsigned *value)
{
	unsigned result = 0;

	if (len == 0 || (len > 1 && text[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		unsigned digit = (unsigned)(text[i] - '0');
		if (result > (max - digit) / 10)
			return -1;
		result = result * 10 + digit;
	}
	*value = result;
	return 0;
}

int text_hex4(const char *text, unsigned *value)
{
	unsigned result = 0;

	for (int i = 0; i < 4; i++) {
		char c = text[i];
		unsigned digit;
		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			digit = (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
		result = result << 4 | digit;
	}
	*value = result;
	return 0;
}

bool vmid_char(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-';
}

bool vmid_valid(const char *text, size_t len)
{
	if (len > VMID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!vmid_char(text[i]))
			return false;
	return true;
}

int root_path(const char *root, const char *path, char *buf, size_t size)
{
	size_t root_len = strlen(root);

	while (root_len > 0 && root[root_len - 1] == '/')
		root_len--;
	if (root_len > INT_MAX)
		return -1;
	int n = format(buf, size, "%.*s%s", (int)root_len, root, path);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void quote_untrusted(const char *text, size_t len, char *out, size_t size)
{
	size_t limit = size - 4, o = 0;
	for (size_t i = 0; i < len && o < limit; i++) {
		unsigned char c = (unsigned char)text[i];
		out[o++] = (char)((c >= 0x20 && c < 0x7f) ? c : (unsigned char)'?');
	}
	if (len > limit)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = '\0';
}

void error_set(struct error *err, const char *fmt, ...)
{
	/* with "hostusb: " in front, a line of at most 1024 bytes */
	enum { KEEP = 504, SHOWN = 2 * KEEP + 3 };
	char text[16384];
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(text, sizeof text, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : strnlen(text, sizeof text);
	if (len > SHOWN) {
		memcpy(err->message, text, KEEP);
		memcpy(err->message + KEEP, "...", 3);
		memcpy(err->message + KEEP + 3, text + len - KEEP, KEEP);
		len = 2 * KEEP + 3;
	} else {
		memcpy(err->message, text, len);
	}
	err->message[len] = '\0';
}
