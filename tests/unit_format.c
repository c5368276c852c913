/* SPDX-License-Identifier: GPL-2.0-or-later */
/* format.c against the C library's snprintf: every format the program uses, then random ones. */
#include "format.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Runs both formatters on one argument list; returns 1 when result and bytes agree. */
#define SAME(size, ...) same_as_libc((size), __VA_ARGS__)

__attribute__((format(printf, 2, 3)))
static int same_as_libc(size_t size, const char *fmt, ...)
{
	char ours[256], libc[256];
	va_list ap, ap2;

	memset(ours, 'Z', sizeof ours);
	memset(libc, 'Z', sizeof libc);
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n_ours = vformat(ours, size, fmt, ap);
	int n_libc = vsnprintf(libc, size, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (n_ours != n_libc || memcmp(ours, libc, sizeof ours) != 0) {
		printf("  differs for [%s] size %zu: ours %d [%.*s], libc %d [%.*s]\n", fmt, size, n_ours,
		       (int)(size < sizeof ours ? size : sizeof ours), ours, n_libc,
		       (int)(size < sizeof libc ? size : sizeof libc), libc);
		return 0;
	}
	return 1;
}

/* The formats the program prints with, as it calls them. */
static void check_program_formats(void)
{
	int ok = 1;
	for (size_t size = 0; size <= 80; size++) {
		ok &= SAME(size, "hostusb: %.*s\n", 5, "cannot chown /dev/bus/usb/001/002");
		ok &= SAME(size, "/dev/bus/usb/%03u/%03u", 1u, 127u);
		ok &= SAME(size, "%s:%u:%u%s%s\n", "/dev/bus/usb/001/002", 107u, 4294967295u, " ", "vm-1");
		ok &= SAME(size, "line %lu:%lu: ", 1UL, ULONG_MAX);
		ok &= SAME(size, "line %zu: malformed record", SIZE_MAX);
		ok &= SAME(size, "control character 0x%02X is not allowed in XML", 0x1bu);
		ok &= SAME(size, "%03u %03u %04x:%04x %-20s %-11s %-36s hostusb=0x%04x:0x%04x\n", 3u, 12u, 0x627u,
			   0x1u, "1-3.1", "107:107", "4f1c1e2e-6b5d-4c5a-9c3e-0a1b2c3d4e5f", 0xabcdu, 0xffffu);
		ok &= SAME(size, "elements nested more than %d deep", 256);
		ok &= SAME(size, "%d %d %d %05d %-5d|", 0, INT_MIN, INT_MAX, -42, -7);
		ok &= SAME(size, "%.*s|%.*s|%.*s", 0, "abc", -1, "abc", 2, "a");
		ok &= SAME(size, "100%% %s", "");
		ok &= SAME(size, ":%04o|%04o|%o", 0600u, 07777u, UINT_MAX);
	}
	CHECK("format: every format the program uses, at every buffer size 0..80", ok);
}

static unsigned long long next_random(unsigned long long *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 11;
}

/* Random flags, widths, conversions and values, against vsnprintf; the formats are built at run time. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void check_random_formats(void)
{
	static const unsigned long long edges[] = { 0, 1, 9, 10, 15, 16, 255, 65535, INT_MAX, UINT_MAX,
						    (unsigned long long)INT_MAX + 1, ULONG_MAX };
	static const char *const strings[] = { "", "a", "hostusb", "0123456789abcdefghij" };
	unsigned long long state = 20261125;
	int ok = 1;

	for (int i = 0; i < 200000 && ok; i++) {
		unsigned long long r = next_random(&state);
		unsigned long long value = r % 3 ? edges[r % (sizeof edges / sizeof *edges)] : next_random(&state);
		char flags[3] = { 0 }, fmt[32];
		int f = 0;
		if (r & 8)
			flags[f++] = '-';
		if (r & 16)
			flags[f++] = '0';
		unsigned width = (unsigned)(r >> 5) % 24;
		size_t size = (size_t)(r >> 10) % 40;
		switch ((r >> 15) % 7) {
		case 0:
			snprintf(fmt, sizeof fmt, "[%%%s%ud]", flags, width);
			ok &= SAME(size, fmt, (int)(unsigned)value);
			break;
		case 1:
			snprintf(fmt, sizeof fmt, "[%%%s%uu]", flags, width);
			ok &= SAME(size, fmt, (unsigned)value);
			break;
		case 2:
			snprintf(fmt, sizeof fmt, "[%%%s%ulx]", flags, width);
			ok &= SAME(size, fmt, (unsigned long)value);
			break;
		case 3:
			snprintf(fmt, sizeof fmt, "[%%%s%uX]", flags, width);
			ok &= SAME(size, fmt, (unsigned)value);
			break;
		case 4:
			snprintf(fmt, sizeof fmt, "[%%%s%uzu]", flags[0] == '-' ? "-" : "", width);
			ok &= SAME(size, fmt, (size_t)value);
			break;
		case 5:
			snprintf(fmt, sizeof fmt, "[%%%s%uo]", flags, width);
			ok &= SAME(size, fmt, (unsigned)value);
			break;
		default:
			snprintf(fmt, sizeof fmt, "[%%%s%u.*s]", flags[0] == '-' ? "-" : "", width);
			ok &= SAME(size, fmt, (int)(value % 30) - 5, strings[value % 4]);
			break;
		}
	}
	CHECK("format: 200,000 random formats and values agree with vsnprintf", ok);
}

#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static int unknown_conversion(const char *fmt)
{
	char buf[16];
	memset(buf, 'Z', sizeof buf);
	int n = format(buf, sizeof buf, fmt, 'x', 1L);
	return n == -1 && buf[0] == '\0';
}

/* A conversion it does not know gives -1 and "", never a wrong text. */
static void check_unknown_conversions(void)
{
	CHECK("format: %c is refused", unknown_conversion("a%cb"));
	CHECK("format: %f is refused", unknown_conversion("%f"));
	CHECK("format: %ld is refused", unknown_conversion("%ld"));
	CHECK("format: %p is refused", unknown_conversion("%p"));
	CHECK("format: a trailing % is refused", unknown_conversion("abc%"));
	char untouched = 'Z';
	CHECK("format: size 0 writes nothing and returns the length", format(&untouched, 0, "%s", "abc") == 3 &&
									     untouched == 'Z');
}

int main(void)
{
	check_program_formats();
	check_random_formats();
	check_unknown_conversions();
	return check_status();
}
