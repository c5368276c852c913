/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_JOURNAL_H
#define HOSTUSB_JOURNAL_H
/*
 * The journal: the owner and mode each device node had before it was given
 * to a VM, so that they can be given back, even after a crash.  One line per
 * node,
 *
 *   /dev/bus/usb/BBB/DDD:UID:GID:VMID:MODE
 *
 * MODE in octal, four digits (0600); VMID empty for a node of an unknown VM.
 * Older lines are read too: DEVPATH:UID:GID:VMID (no mode), and the Python
 * hook's DEVPATH:UID:GID, run together without newlines; a line without a
 * mode gives back the owner only.  The fourth field is always the vmId, so
 * each form reads one way only.  In
 * <root>/var/run/vdsm/hooks/hostusb-permissions.  It is read,
 * changed and written back under its lock; entries change only through these
 * functions.  Lookups are by device address, in O(log n).
 */
#include <stdbool.h>
#include <stddef.h>

#include "sysfs.h"
#include "text.h"

#define JOURNAL_PATH "/var/run/vdsm/hooks/hostusb-permissions"

struct journal_entry {
	struct usb_addr addr;
	unsigned uid, gid;
	char vmid[VMID_MAX + 1];    /* "" for a line without one (an unknown VM) */
	bool has_mode;              /* false for an older line */
	unsigned mode;              /* permission bits, <= 07777 */
};

struct journal {
	struct journal_entry *entries; /* one per node, in the order of the file */
	size_t count, capacity;
	size_t *by_addr;               /* indexes of entries, sorted by address */
	char *original;                /* the file's bytes as read, for journal_restore */
	size_t original_len;
	bool existed;
};

/*
 * Takes the journal lock (an flock on a file beside it that is never
 * replaced), making the directories, waiting at most wait_seconds.  The lock's
 * descriptor, or -1 with err set.
 */
int journal_lock(const char *root, unsigned wait_seconds, struct error *err);

/* Reads <root>JOURNAL_PATH (absent: empty).  0, or -1 with err set and *j empty. */
int journal_read(const char *root, struct journal *j, struct error *err);
/*
 * Parses text into *j (which it resets).  A later line for a node already
 * read is not its original owner: it is dropped.  0, or -1 with err set
 * ("line N: malformed record").
 */
int journal_parse(const char *text, size_t len, struct journal *j, struct error *err);
/* The entry of the node at addr, or NULL. */
const struct journal_entry *journal_find(const struct journal *j, struct usb_addr addr);
/*
 * Adds a line at the end, unless the node has one already; mode's permission
 * bits (& 07777) are recorded.  0, or -1 (out of memory).
 */
int journal_add(struct journal *j, struct usb_addr addr, unsigned uid, unsigned gid, const char *vmid,
		unsigned mode);
/* Removes the entries i with drop[i], keeping the order of the others.  0, or -1 (out of memory). */
int journal_drop(struct journal *j, const bool *drop);
/* The text of the entries; its length, or (size_t)-1 when it does not fit in size. */
size_t journal_format(const struct journal *j, char *buf, size_t size);
/*
 * Writes the entries to the file durably (temp file, fsync, rename, fsync of
 * the directory).  0; 1 when written but the directory could not be synced;
 * -1 with the file untouched.  err set unless 0.
 */
int journal_commit(const char *root, const struct journal *j, struct error *err);
/* Puts back the bytes journal_read found (or removes the file it did not find); as journal_commit. */
int journal_restore(const char *root, const struct journal *j, struct error *err);
void journal_free(struct journal *j);

#endif
