/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_TEXT_H
#define HOSTUSB_TEXT_H
/*
 * The rules for text that every module shares, each in one place: decimal
 * numbers, 4-hex-digit ids, vmIds, host paths under --root, messages (struct
 * error: why a function failed, for its caller to print), and text files read
 * or replaced whole.  Knows nothing of USB, XML or the journal.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "host.h"

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
/* Whether a and b name the same VM: vmIds are UUIDs, compared ignoring case. */
bool vmid_equal(const char *a, const char *b);

/*
 * A serial number the property can name (and a device's that it can be
 * selected by): 1 to SERIAL_MAX characters of [A-Za-z0-9._:-].
 */
#define SERIAL_MAX 64
bool serial_char(char c);
bool serial_valid(const char *text, size_t len);

/*
 * The length of the --root prefix: without trailing '/', so that "" and "/"
 * both mean the host itself.
 */
size_t root_length(const char *root);
/*
 * buf = root + path, where path ("/etc/passwd") is as seen inside the root.
 * 0, or -1 when it does not fit.
 */
int root_path(const char *root, const char *path, char *buf, size_t size);

/* Printable, bounded copy of untrusted text for a message: '?' for other bytes, "..." when cut. */
void quote_untrusted(const char *text, size_t len, char *out, size_t size);

/*
 * Why something failed: one line without the "hostusb: " prefix.  An
 * overlong message (a huge path) loses the middle of its longest words, so
 * that the reason after the path stays whole.
 */
struct error {
	char message[1024];
};
/* the longest message kept whole: with "hostusb: " and '\n', a line of at most 1024 bytes */
#define ERROR_SHOWN (sizeof((struct error *)0)->message - 13)
__attribute__((format(printf, 2, 3))) void error_set(struct error *err, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void error_vset(struct error *err, const char *fmt, va_list ap);

/* root_path, with err set ("<root><path>: path too long") when it does not fit. */
int path_under_root(const char *root, const char *path, char *buf, size_t size, struct error *err);


/*
 * realloc(old, new_size) for an array of which old_size bytes are in use,
 * done with malloc and free: the C library's realloc is a kilobyte of a
 * static musl binary.  NULL (old untouched) when out of memory.
 */
void *grow(void *old, size_t old_size, size_t new_size);

/* write(2) until done; -1 with errno on failure */
int write_all(int fd, const void *data, size_t len);

/*
 * open(2) as openat(AT_FDCWD, ...): the same call to the kernel, where musl's
 * open follows an O_CLOEXEC open with an fcntl of its own.
 */
int open_path(const char *path, int flags, unsigned mode);

/*
 * Opens path, which must be a regular file of at most max bytes (0: any
 * size): read-only, never through a symlink, never blocking on a fifo, closed
 * on exec, and with flags added (O_CREAT makes it, mode 0600).  The
 * descriptor, with *st filled in; or -1 with *why the reason for a message,
 * OPEN_MISSING (with *why too) when the file does not exist.
 */
#define OPEN_MISSING (-2)
int open_regular(const char *path, int flags, size_t max, struct stat *st, const char **why);

/*
 * Reads a whole regular file of at most max bytes into *data (NUL-terminated,
 * free it).  0; 1 when it does not exist and missing_ok; -1 with err set.
 */
int read_small_file(const char *path, size_t max, char **data, size_t *len, bool missing_ok, struct error *err);

/*
 * A file replaced whole, atomically: the new contents go to a temporary file
 * beside it, which is renamed over it.  The temporary file has no name
 * (O_TMPFILE) until it is linked in just before the rename, where the kernel
 * allows it (CAP_DAC_READ_SEARCH); otherwise it is a named file from the
 * start.  Its name is always path + suffix: the caller holds a lock under
 * which every run uses that name, so whatever a killed run left there is
 * removed when the next one finds it in the way.  The name is made where a
 * call needs it, so that no buffer of it stays on the stack between begin
 * and commit, under what the caller does there.
 */
struct replacement {
	int fd;                     /* write the new contents here */
	bool named;                 /* path + suffix exists in the directory */
	const char *path, *suffix;  /* the caller's, until commit or abandon */
};
/*
 * Gives fd the permission bits and owner of st (the owner only where it is
 * not the process's own, which needs no privilege): 0, or -1 with errno set.
 */
int copy_mode_and_owner(int fd, const struct stat *st);
/* 0 with r->fd open (mode 0600, the caller's owner), or -1 with err set. */
int replacement_begin(struct replacement *r, const char *path, const char *suffix, struct error *err);
/*
 * Renames the new contents over path; with durable, syncs them first and the
 * directory after.  0; 1 when replaced but the directory could not be synced;
 * -1 with path untouched and the temporary file gone.  Either way r is done.
 */
int replacement_commit(struct replacement *r, bool durable, struct error *err);
void replacement_abandon(struct replacement *r);

#endif
