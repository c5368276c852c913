/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hostusb property grammar (parse_property) and the vmId check
 * (check_vmid) against references written from the README: the same verdict,
 * the same ids, and on refusal exactly one printable line of message.
 */
#include "hostusb_in.h"

static int hex4(const char *s, unsigned *value)
{
	*value = 0;
	for (int i = 0; i < 4; i++) {
		const char *digits = "0123456789abcdef", *lower = "0123456789ABCDEF";
		const char *at = s[i] ? strchr(digits, s[i]) : NULL, *up = s[i] ? strchr(lower, s[i]) : NULL;
		if (!at && !up)
			return -1;
		*value = *value * 16 + (unsigned)(at ? at - digits : up - lower);
	}
	return 0;
}

/* ^0x[0-9a-fA-F]{4}:0x[0-9a-fA-F]{4}(&0x[0-9a-fA-F]{4}:0x[0-9a-fA-F]{4}){0,31}$ */
static int ref_property(const char *s, struct usb_id *ids, size_t *count)
{
	size_t n = 0;
	for (;;) {
		if (n == MAX_ENTRIES || strncmp(s, "0x", 2) != 0 || hex4(s + 2, &ids[n].vendor) < 0 ||
		    strncmp(s + 6, ":0x", 3) != 0 || hex4(s + 9, &ids[n].product) < 0)
			return -1;
		n++;
		s += 13;
		if (*s == '\0')
			break;
		if (*s++ != '&')
			return -1;
	}
	*count = n;
	return 0;
}

static int ref_vmid(const char *s)
{
	size_t len = strlen(s);
	if (len > 64)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", s[i]))
			return -1;
	return 0;
}

FUZZ_INIT(property)
{
}

FUZZ_ENTRY(property)
{
	char *text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';

	struct request req = { .count = 999 };
	struct usb_id want[MAX_ENTRIES];
	struct error err = { "" };
	size_t want_count = 0;
	int got = parse_property(text, &req, &err), ref = ref_property(text, want, &want_count);
	FUZZ_ASSERT(got == ref, "parse_property returned %d, the reference %d", got, ref);
	if (got == 0) {
		FUZZ_ASSERT(err.message[0] == '\0', "parse_property accepted and set a message");
		FUZZ_ASSERT(req.count == want_count, "%zu entries, the reference %zu", req.count, want_count);
		for (size_t i = 0; i < want_count; i++)
			FUZZ_ASSERT(req.entries[i].id.vendor == want[i].vendor && req.entries[i].id.product == want[i].product,
				    "entry %zu is %04x:%04x, the reference %04x:%04x", i, req.entries[i].id.vendor,
				    req.entries[i].id.product, want[i].vendor, want[i].product);
	} else {
		fuzz_check_message("parse_property", err.message);
	}

	err.message[0] = '\0';
	got = check_vmid(text, &err);
	ref = ref_vmid(text);
	FUZZ_ASSERT(got == ref, "check_vmid returned %d, the reference %d", got, ref);
	if (got < 0)
		fuzz_check_message("check_vmid", err.message);
	free(text);
	return 0;
}
