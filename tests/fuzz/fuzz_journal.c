/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal reader (journal_parse): whatever it accepts is well formed,
 * keeps the first owner recorded for a node, and survives parse -> format ->
 * parse unchanged, modes included; what it refuses is refused with a line number.
 */
#include <stdio.h>

#include "hostusb_in.h"

static void check_entries(const struct journal *j)
{
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		FUZZ_ASSERT(e->addr.bus <= 999 && e->addr.device <= 999, "entry %zu: address %u/%u", i, e->addr.bus,
			    e->addr.device);
		FUZZ_ASSERT(e->uid != 0xffffffffu && e->gid != 0xffffffffu, "entry %zu: owner -1", i);
		size_t vlen = strnlen(e->vmid, sizeof e->vmid);
		FUZZ_ASSERT(vlen <= VMID_MAX, "entry %zu: vmid not terminated", i);
		for (size_t k = 0; k < vlen; k++)
			FUZZ_ASSERT(vmid_char(e->vmid[k]), "entry %zu: vmid [%s]", i, e->vmid);
		FUZZ_ASSERT(e->mode <= 07777 && (e->has_mode || e->mode == 0), "entry %zu: mode %o", i, e->mode);
		for (size_t k = 0; k < i; k++)
			FUZZ_ASSERT(usb_addr_compare(j->entries[k].addr, e->addr) != 0, "entries %zu and %zu: both %u/%u",
				    k, i, e->addr.bus, e->addr.device);
		FUZZ_ASSERT(journal_find(j, e->addr) == e, "entry %zu: journal_find does not find it", i);
	}
}

/* The first record for each node in the text gives the owner kept. */
static void check_first_owner(const struct journal *j, const uint8_t *text, size_t len)
{
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		char key[32];
		snprintf(key, sizeof key, "/dev/bus/usb/%03u/%03u:", e->addr.bus, e->addr.device);
		const uint8_t *at = memmem(text, len, key, 21);
		FUZZ_ASSERT(at != NULL, "entry %zu (%s) is not in the text", i, key);
		unsigned long long uid = 0;
		for (at += 21; at < text + len && *at >= '0' && *at <= '9'; at++)
			uid = uid * 10 + (unsigned)(*at - '0');
		FUZZ_ASSERT(uid == e->uid, "%s kept owner %u, the first record says %llu", key, e->uid, uid);
	}
}

static bool same_entries(const struct journal *a, const struct journal *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct journal_entry *x = &a->entries[i], *y = &b->entries[i];
		if (usb_addr_compare(x->addr, y->addr) != 0 || x->uid != y->uid || x->gid != y->gid ||
		    strcmp(x->vmid, y->vmid) != 0 || x->has_mode != y->has_mode || x->mode != y->mode)
			return false;
	}
	return true;
}

FUZZ_INIT(journal)
{
}

FUZZ_ENTRY(journal)
{
	struct journal j = { 0 }, again = { 0 };
	struct error err = { "" };
	if (journal_parse((const char *)data, size, &j, &err) < 0) {
		FUZZ_ASSERT(strncmp(err.message, "line ", 5) == 0 || strcmp(err.message, strerror(ENOMEM)) == 0,
			    "refused with [%s]", err.message);
		journal_free(&j);
		return 0;
	}
	check_entries(&j);
	check_first_owner(&j, data, size);

	size_t cap = j.count * (NODE_PATH_SIZE + 2 * 11 + VMID_MAX + 2 + 5) + 1;
	char *text = malloc(cap), *text2 = malloc(cap);
	FUZZ_ASSERT(text && text2, "out of memory");
	size_t len = journal_format(&j, text, cap);
	FUZZ_ASSERT(len != (size_t)-1 && len < cap, "journal_format failed for %zu entries", j.count);
	FUZZ_ASSERT(journal_parse(text, len, &again, &err) == 0, "its own output is refused: %s [%.*s]",
		    err.message, (int)(len < 200 ? len : 200), text);
	FUZZ_ASSERT(same_entries(&j, &again), "parse -> format -> parse changed the entries");
	size_t len2 = journal_format(&again, text2, cap);
	FUZZ_ASSERT(len2 == len && memcmp(text, text2, len) == 0, "format is not stable");
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f), "byte 0x%02x in the output",
			    (unsigned char)text[i]);
	free(text);
	free(text2);
	journal_free(&j);
	journal_free(&again);
	return 0;
}
