/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The formatter declared in format.h. */
#include "format.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct format_output {
	char *buf;
	size_t size, len;
};

static void format_char(struct format_output *out, char c)
{
	if (out->len + 1 < out->size)
		out->buf[out->len] = c;
	out->len++;
}

/* len bytes of text: what fits copied at once */
static inline __attribute__((always_inline)) void format_text(struct format_output *out, const char *text, size_t len)
{
	size_t room = out->len + 1 < out->size ? out->size - 1 - out->len : 0;
	if (room > 0 && len > 0)
		memcpy(out->buf + out->len, text, len < room ? len : room);
	out->len += len;
}

static void format_repeat(struct format_output *out, char c, size_t count)
{
	for (; count > 0; count--)
		format_char(out, c);
}

struct format_spec {
	bool left, zero;
	size_t width, precision;
	char length, conversion; /* length: 0, 'l' or 'z' */
};

/* Parses flags, width, precision and length after a '%'; returns the conversion's address. */
static const char *format_parse(const char *f, struct format_spec *spec, va_list *ap)
{
	*spec = (struct format_spec){ .precision = SIZE_MAX };
	for (; *f == '-' || *f == '0'; f++) {
		if (*f == '-')
			spec->left = true;
		else
			spec->zero = true;
	}
	for (; *f >= '0' && *f <= '9' && spec->width < 100000; f++)
		spec->width = spec->width * 10 + (size_t)(*f - '0');
	if (f[0] == '.' && f[1] == '*') {
		int precision = va_arg(*ap, int);
		spec->precision = precision < 0 ? SIZE_MAX : (size_t)precision;
		f += 2;
	}
	if (*f == 'l' || *f == 'z')
		spec->length = *f++;
	spec->conversion = *f;
	return f;
}

/* Pads text to the width: spaces on the side the '-' flag says, or zeros after the sign. */
static void format_field(struct format_output *out, const struct format_spec *spec, bool negative,
			const char *text, size_t len)
{
	size_t fill = spec->width > len + negative ? spec->width - len - negative : 0;
	bool zeros = spec->zero && !spec->left;

	if (!spec->left && !zeros)
		format_repeat(out, ' ', fill);
	if (negative)
		format_char(out, '-');
	if (zeros)
		format_repeat(out, '0', fill);
	format_text(out, text, len);
	if (spec->left)
		format_repeat(out, ' ', fill);
}

/* A number's digits, written backwards to end the buffer at end; returns where they start. */
static char *format_number(const struct format_spec *spec, va_list *ap, bool *negative, char *end)
{
	uintmax_t value;

	if (spec->conversion == 'd') {
		int number = va_arg(*ap, int);
		*negative = number < 0;
		value = number < 0 ? 0 - (uintmax_t)number : (uintmax_t)number;
	} else if (spec->length == 'z') {
		value = va_arg(*ap, size_t);
	} else {
		value = spec->length == 'l' ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
	}
	unsigned base = spec->conversion == 'u' || spec->conversion == 'd' ? 10 : spec->conversion == 'o' ? 8 : 16;
	const char *symbols = spec->conversion == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		*--end = symbols[value % base];
		value /= base;
	} while (value != 0);
	return end;
}

/* One conversion; returns -1 for one this formatter does not know. */
static int format_conversion(struct format_output *out, const struct format_spec *spec, va_list *ap)
{
	char digits[3 * sizeof(uintmax_t)];
	bool negative = false;

	switch (spec->conversion) {
	case 's': {
		const char *text = va_arg(*ap, const char *);
		struct format_spec padded = *spec;
		padded.zero = false;
		size_t len = spec->precision == SIZE_MAX ? strlen(text) : strnlen(text, spec->precision);
		format_field(out, &padded, false, text, len);
		return 0;
	}
	case 'd':
	case 'u':
	case 'o':
	case 'x':
	case 'X': {
		if (spec->conversion == 'd' && spec->length != 0)
			return -1;
		char *end = digits + sizeof digits, *start = format_number(spec, ap, &negative, end);
		format_field(out, spec, negative, start, (size_t)(end - start));
		return 0;
	}
	case '%':
		format_char(out, '%');
		return 0;
	default:
		return -1;
	}
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct format_output out = { buf, size, 0 };
	struct format_spec spec;
	va_list args;
	int status = 0;

	va_copy(args, ap);
	for (const char *f = fmt; status == 0 && *f; f++) {
		if (*f != '%') {
			const char *next = strchrnul(f, '%');
			format_text(&out, f, (size_t)(next - f));
			f = next - 1;
			continue;
		}
		if (f[1] == 's') {
			/* the most common conversion, without flags, width or precision: the text as it is */
			const char *text = va_arg(args, const char *);
			format_text(&out, text, strlen(text));
			f++;
			continue;
		}
		f = format_parse(f + 1, &spec, &args);
		status = format_conversion(&out, &spec, &args);
	}
	va_end(args);
	if (status < 0 || out.len > INT_MAX)
		out.len = 0;
	if (size > 0)
		buf[out.len < size ? out.len : size - 1] = '\0';
	return status < 0 || out.len > INT_MAX ? -1 : (int)out.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
