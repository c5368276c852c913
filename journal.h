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
 *
 * Its size is at most JOURNAL_MAX_BYTES, in the file and as written back
 * one record a line (the Python hook's records, run together, each gain a
 * newline): a file larger either way is refused when read, so whatever is
 * read can be written back without its dropped lines and read again.  A
 * start whose added lines would make it larger is refused.  Any journal of
 * 2 MiB or less, in any form, is read.
 *
 * Its cost is bounded whatever its size: it is read a record at a time
 * through a fixed buffer, and only the lines a run asks for are kept in
 * memory; the file stays open, and journal_commit and journal_restore stream
 * from it again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sysfs.h"
#include "text.h"

#define JOURNAL_PATH "/var/run/vdsm/hooks/hostusb-permissions"
/* 2.25 MiB: 2 MiB of the shortest records, run together, are 2,184,534 bytes one a line */
#define JOURNAL_MAX_BYTES (9u << 18)

struct journal_entry {
	struct usb_addr addr;
	unsigned uid, gid;
	char vmid[VMID_MAX + 1];    /* "" for a line without one (an unknown VM) */
	bool has_mode;              /* false for an older line */
	unsigned mode;              /* permission bits, <= 07777 */
};

struct journal {
	struct journal_entry *entries; /* one per node, in the order of the file, then those added */
	size_t count, capacity;
	size_t *by_addr;               /* indexes of entries, sorted by address */
	size_t from_file;              /* entries[0, from_file) are lines of the file */
	unsigned char **kept;          /* per bus, a bit per node: its line was read into entries */
	int fd;                        /* the file as read (when existed), for journal_commit and journal_restore */
	bool existed;
	dev_t dev;                     /* and which file it is */
	ino_t ino;
};

/*
 * Takes the journal lock (an flock on a file beside it that is never
 * replaced), making the directories, waiting at most wait_seconds.  The lock's
 * descriptor, or -1 with err set.
 */
int journal_lock(const char *root, unsigned wait_seconds, struct error *err);

/*
 * Reads <root>JOURNAL_PATH (absent: empty), keeping in memory the lines of
 * the nodes of devices (NULL: every line) and the lines of vmid (NULL or "":
 * none by vmId); the others are left in the file, and journal_commit writes
 * them back as they are.  A later line for a node already read is not its
 * original owner: it is dropped.  0, or -1 with err set and *j empty.
 */
int journal_read(const char *root, const struct usb_device_list *devices, const char *vmid, struct journal *j,
		 struct error *err);
/*
 * Whether the journal is still what j was read from: the file there is the
 * one j holds open, or there is none and there was none.  A journal only
 * ever changes by a new file renamed over it (and a file held open keeps its
 * inode number), so a journal read before the lock, found current under it,
 * need not be read again.
 */
bool journal_current(const char *root, const struct journal *j);
/*
 * Parses text into *j (which it resets), every line; journal_commit of it
 * writes its entries, there being no file to stream from.  As journal_read:
 * 0, or -1 with err set ("line N: malformed record").
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
 * Writes the journal durably (temp file, fsync, rename, fsync of the
 * directory): the lines of the file as read, one a line, less those dropped,
 * then those added.  0; 1 when written but the directory could not be synced;
 * -1 with the file untouched.  err set unless 0.
 */
int journal_commit(const char *root, const struct journal *j, struct error *err);
/* Puts back the bytes journal_read found (or removes the file it did not find), even after a journal_commit; as journal_commit. */
int journal_restore(const char *root, const struct journal *j, struct error *err);
void journal_free(struct journal *j);

#endif
