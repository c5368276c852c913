/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_TEXT_H
#define HOSTUSB_TEXT_H
/*
 * The rules for text that every module shares, each in one place: decimal
 * numbers, 4-hex-digit ids, vmIds, host paths under --root, and messages
 * (struct error: what a function that fails says, for the caller to print).
 * Knows nothing of USB, XML or the journal.
 */
#include <stdbool.h>
#include <stddef.h>

/*
 * Decimal as the kernel and the C library print it ("%u"): digits only, no
 * sign, space or leading zero, at most max.  0 and *value set, or -1.
 */
int text_decimal(const char *text, size_t len, unsigned max, unsigned *value);
/* Exactly 4 hex digits, either case, at text.  0 and *value set, or -1. */
int text_hex4(const char *text, unsigned *value);

#define VMID_MAX 64
/* A vmId is a UUID-like token: letters, digits and '-' only, at most VMID_MAX. */
bool vmid_char(char c);
bool vmid_valid(const char *text, size_t len);

/*
 * buf = root + path, where path ("/etc/passwd") is as seen inside the root;
 * "" and trailing '/' on root mean the host itself.  0, or -1 when it does
 * not fit.
 */
int root_path(const char *root, const char *path, char *buf, size_t size);

/* Printable, bounded copy of untrusted text for a message: '?' for other bytes, "..." when cut. */
void quote_untrusted(const char *text, size_t len, char *out, size_t size);

/*
 * Why something failed: one line without the "hostusb: " prefix.  An
 * overlong message (a huge path) keeps its start and its end, where the
 * reason is.
 */
struct error {
	char message[1024];
};
__attribute__((format(printf, 2, 3))) void error_set(struct error *err, const char *fmt, ...);

#endif
