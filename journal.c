/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of original owners; see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "host.h"

#define JOURNAL_DIR       "/var/run/vdsm/hooks"
#define LOCK_NAME         "hostusb-permissions.lock"
#define LOCK_PATH         JOURNAL_DIR "/" LOCK_NAME
/* only its owner (the journal directory's, the hook's user) and root may open it */
#define LOCK_MODE         0600u
/* the one temporary name every run uses, under the lock */
#define TEMP_SUFFIX       ".update"
/*
 * what is read (as the file is, and as it would be written back) and what is
 * written alike: a journal written is always one that can be read, and one
 * read can always be written back
 */
#define MAX_JOURNAL_BYTES JOURNAL_MAX_BYTES
/*
 * A record the parser accepts is at most "/dev/bus/usb/BBB/DDD" 20, ":UID"
 * and ":GID" 11 each, ":VMID" 65, ":MODE" 5 bytes: with one more byte after
 * it in the window, where it ends is always seen.
 */
#define RECORD_WINDOW     (112u + 1)
/* a line written: as above, '\n', and room for an address of ten digits each */
#define ENTRY_TEXT_MAX    128u
/*
 * The buffers are on the stack: a start's few reads and writes of the
 * journal then touch the same pages, where musl's malloc maps and unmaps
 * each large buffer anew (each costing as much as several system calls).
 * Half a page each: the start of a larger one lies pages away from the
 * locals around it, and a new journal's two, with the frames above them,
 * make the deepest stack of a start, each page of it a page fault more in
 * every start (a 2 MiB journal costs 1,024 reads instead of 32, far less
 * than its parse).
 */
#define READ_BUFFER_BYTES (2u << 10)
#define WRITE_BUFFER_BYTES (2u << 10)
#define MODE_DIGITS       4

/* ---- the text ---- */

static size_t count_digits(const char *s, const char *end)
{
	size_t n = 0;
	while (s + n < end && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* "/dev/bus/usb/BBB/DDD" at s, exactly: three digits each */
static const char *parse_node(const char *s, const char *end, struct usb_addr *addr)
{
	static const char prefix[] = NODE_DIR "/";
	size_t plen = sizeof prefix - 1;
	if ((size_t)(end - s) < plen + 7 || memcmp(s, prefix, plen) != 0)
		return NULL;
	s += plen;
	unsigned *parts[2] = { &addr->bus, &addr->device };
	for (int i = 0; i < 2; i++, s += 4) {
		if (count_digits(s, s + 3) != 3 || (i == 0 && s[3] != '/'))
			return NULL;
		*parts[i] = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	}
	return s - 1;
}

/* ":MODE" at s: exactly four octal digits; the end of it, or NULL */
static const char *parse_mode(const char *s, const char *end, unsigned *mode)
{
	if (end - s < 1 + MODE_DIGITS || *s++ != ':')
		return NULL;
	*mode = 0;
	for (int i = 0; i < MODE_DIGITS; i++, s++) {
		if (*s < '0' || *s > '7')
			return NULL;
		*mode = *mode * 8 + (unsigned)(*s - '0');
	}
	return s;
}

/*
 * Parses one record at *p: DEVPATH:UID:GID[:VMID[:MODE]] (VMID may be empty
 * only before a MODE), ended by '\n', the end of the text, or directly by the
 * next record's '/' (the Python hook wrote its records without newlines).
 */
static int parse_record(const char **p, const char *end, struct journal_entry *e)
{
	const char *s = parse_node(*p, end, &e->addr);
	if (!s)
		return -1;
	unsigned *fields[2] = { &e->uid, &e->gid };
	for (int i = 0; i < 2; i++) {
		if (s >= end || *s++ != ':')
			return -1;
		size_t digits = count_digits(s, end);
		if (text_decimal(s, digits, OWNER_MAX, fields[i]) < 0)
			return -1;
		s += digits;
	}
	size_t vmid_len = 0;
	e->has_mode = false;
	e->mode = 0;
	const char *vmid = s + 1;
	if (s < end && *s == ':') {
		s++;
		while (s + vmid_len < end && vmid_char(s[vmid_len]))
			vmid_len++;
		s += vmid_len;
		if (s < end && *s == ':') {
			s = parse_mode(s, end, &e->mode);
			if (!s)
				return -1;
			e->has_mode = true;
		}
		if ((vmid_len == 0 && !e->has_mode) || vmid_len > VMID_MAX)
			return -1;
	}
	memcpy(e->vmid, vmid, vmid_len);
	e->vmid[vmid_len] = '\0';
	if (s < end && *s == '\n')
		s++;
	else if (s < end && *s != '/')
		return -1;
	*p = s;
	return 0;
}

/*
 * ---- sets of node names: a bit for each /dev/bus/usb/BBB/DDD ----
 * A block of bits per bus, made when a node of that bus is first added, so
 * that a short journal costs a few hundred bytes, not a bitmap of every name.
 */

#define NAMES_PER_BUS 1000u
#define BUS_BLOCK_BYTES ((NAMES_PER_BUS + 7) / 8)

static bool in_set(unsigned char *const *set, struct usb_addr a)
{
	if (!set || a.bus >= NAMES_PER_BUS || a.device >= NAMES_PER_BUS || !set[a.bus])
		return false;
	return (set[a.bus][a.device / 8] >> (a.device % 8)) & 1;
}

/* 0, or -1 (out of memory); a name no node can have is never in a set */
static int add_to_set(unsigned char ***set, struct usb_addr a)
{
	if (a.bus >= NAMES_PER_BUS || a.device >= NAMES_PER_BUS)
		return 0;
	if (!*set && !(*set = calloc(NAMES_PER_BUS, sizeof **set)))
		return -1;
	unsigned char **bus = &(*set)[a.bus];
	if (!*bus && !(*bus = calloc(1, BUS_BLOCK_BYTES)))
		return -1;
	(*bus)[a.device / 8] = (unsigned char)((*bus)[a.device / 8] | 1u << (a.device % 8));
	return 0;
}

static void free_set(unsigned char **set)
{
	for (size_t i = 0; set && i < NAMES_PER_BUS; i++)
		free(set[i]);
	free(set);
}

/* ---- records read one at a time through a fixed window ---- */

struct reader {
	int fd;                    /* -1: the whole text is in [p, end) */
	char *buf;                 /* READ_BUFFER_BYTES */
	const char *p, *end;       /* read, not yet parsed */
	bool eof;
	size_t line, total;
	size_t as_written;         /* bytes of the records read, written back one a line */
};

static struct reader reader_of_fd(int fd, char *buf)
{
	return (struct reader){ .fd = fd, .buf = buf, .p = buf, .end = buf, .line = 1 };
}

static struct reader reader_of_text(const char *text, size_t len)
{
	return (struct reader){ .fd = -1, .p = text, .end = text + len, .eof = true, .line = 1 };
}

/*
 * Reads on while fewer than RECORD_WINDOW bytes are ahead, so that a record
 * the parser accepts always ends inside the window.  -1 with errno set.
 */
static int fill(struct reader *r)
{
	while (!r->eof && (size_t)(r->end - r->p) < RECORD_WINDOW) {
		size_t left = (size_t)(r->end - r->p);
		memmove(r->buf, r->p, left);
		r->p = r->buf;
		r->end = r->buf + left;
		ssize_t n = read(r->fd, r->buf + left, READ_BUFFER_BYTES - left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		r->eof = n == 0;
		r->end += n;
		r->total += (size_t)n;
		if (r->total > MAX_JOURNAL_BYTES) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

static size_t entry_text_length(const struct journal_entry *e);

/* The next record into *e: 1; 0 at the end; -1 with err set ("line N: malformed record"). */
static int next_record(struct reader *r, struct journal_entry *e, struct error *err)
{
	for (;;) {
		if (fill(r) < 0) {
			error_set(err, "%s", strerror(errno));
			return -1;
		}
		if (r->p == r->end)
			return 0;
		if (*r->p == '\n') {
			r->p++, r->line++;
			continue;
		}
		if (parse_record(&r->p, r->end, e) < 0) {
			error_set(err, "line %zu: malformed record", r->line);
			return -1;
		}
		r->line += r->p[-1] == '\n';
		r->as_written += entry_text_length(e);
		if (r->as_written > MAX_JOURNAL_BYTES) {
			error_set(err, "line %zu: over the %u bytes a journal may have once written back one record a line",
				  r->line, MAX_JOURNAL_BYTES);
			return -1;
		}
		return 1;
	}
}

/* ---- the text written ---- */

/* v in decimal, at least width digits (width <= 3); how many were written */
static size_t put_decimal(char *out, unsigned v, size_t width)
{
	char digits[12];
	size_t n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		digits[n++] = '0';
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	return n;
}

/*
 * The line of e at out (ENTRY_TEXT_MAX bytes): the form it was read in, a mode
 * only when it has one.  Its length.
 */
static size_t format_entry(const struct journal_entry *e, char *out)
{
	static const char prefix[] = NODE_DIR "/";
	size_t n = sizeof prefix - 1;
	memcpy(out, prefix, n);
	n += put_decimal(out + n, e->addr.bus, 3);
	out[n++] = '/';
	n += put_decimal(out + n, e->addr.device, 3);
	out[n++] = ':';
	n += put_decimal(out + n, e->uid, 1);
	out[n++] = ':';
	n += put_decimal(out + n, e->gid, 1);
	if (e->vmid[0] || e->has_mode) {
		size_t vmid_len = strnlen(e->vmid, VMID_MAX);
		out[n++] = ':';
		memcpy(out + n, e->vmid, vmid_len);
		n += vmid_len;
	}
	if (e->has_mode) {
		out[n++] = ':';
		for (int shift = 9; shift >= 0; shift -= 3)
			out[n++] = (char)('0' + ((e->mode >> shift) & 7));
	}
	out[n++] = '\n';
	return n;
}

static size_t decimal_digits(unsigned v)
{
	size_t n = 1;
	while (v >= 10)
		v /= 10, n++;
	return n;
}

/* What format_entry writes for e, without writing it. */
static size_t entry_text_length(const struct journal_entry *e)
{
	size_t n = sizeof "/dev/bus/usb/BBB/DDD:" - 1 + decimal_digits(e->uid) + 1 + decimal_digits(e->gid);
	if (e->vmid[0] || e->has_mode)
		n += 1 + strnlen(e->vmid, VMID_MAX);
	return n + (e->has_mode ? 1 + MODE_DIGITS : 0) + 1;
}

/* Lines gathered in a fixed buffer and written to fd when it is full. */
struct writer {
	int fd;
	char *buf;                 /* WRITE_BUFFER_BYTES */
	size_t used, total;
};

static int flush(struct writer *w)
{
	int rc = write_all(w->fd, w->buf, w->used);
	w->used = 0;
	return rc;
}

static int put_entry(struct writer *w, const struct journal_entry *e)
{
	if (w->used + ENTRY_TEXT_MAX > WRITE_BUFFER_BYTES && flush(w) < 0)
		return -1;
	size_t n = format_entry(e, w->buf + w->used);
	w->used += n;
	w->total += n;
	return 0;
}

/* ---- the index by address ---- */

static int compare_at(const struct journal *j, size_t a, size_t b)
{
	return usb_addr_compare(j->entries[a].addr, j->entries[b].addr);
}

/* Stable bottom-up merge sort of j->by_addr (equal addresses keep file order). */
static void sort_index(struct journal *j, size_t *scratch)
{
	size_t n = j->count, *from = j->by_addr, *to = scratch;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				to[k++] = compare_at(j, from[b], from[a]) < 0 ? from[b++] : from[a++];
			while (a < mid)
				to[k++] = from[a++];
			while (b < hi)
				to[k++] = from[b++];
		}
		size_t *t = from;
		from = to;
		to = t;
	}
	if (from != j->by_addr)
		memcpy(j->by_addr, from, n * sizeof *from);
}

/* Where addr is, or would be inserted, in by_addr. */
static size_t index_position(const struct journal *j, struct usb_addr addr, bool *found)
{
	size_t low = 0, high = j->count;
	*found = false;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int order = usb_addr_compare(j->entries[j->by_addr[mid]].addr, addr);
		if (order == 0) {
			*found = true;
			return mid;
		}
		if (order < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/*
 * Removes the entries i with drop[i] (and their slots in by_addr), keeping
 * the order of the others; new_index is scratch for count indexes.
 */
static void compact(struct journal *j, const bool *drop, size_t *new_index)
{
	size_t kept = 0;
	for (size_t i = 0; i < j->count; i++) {
		new_index[i] = kept;
		if (!drop[i])
			j->entries[kept++] = j->entries[i];
	}
	size_t slots = 0;
	for (size_t k = 0; k < j->count; k++)
		if (!drop[j->by_addr[k]])
			j->by_addr[slots++] = new_index[j->by_addr[k]];
	j->count = kept;
}

static int reserve(struct journal *j, size_t count)
{
	if (count <= j->capacity)
		return 0;
	size_t capacity = count > 2 * j->capacity ? count : 2 * j->capacity;
	capacity = capacity < 16 ? 16 : capacity;
	struct journal_entry *entries = grow(j->entries, j->count * sizeof *entries, capacity * sizeof *entries);
	if (!entries)
		return -1;
	j->entries = entries;
	size_t *by_addr = grow(j->by_addr, j->count * sizeof *by_addr, capacity * sizeof *by_addr);
	if (!by_addr)
		return -1;
	j->by_addr = by_addr;
	j->capacity = capacity;
	return 0;
}

/* ---- the interface ---- */

void journal_free(struct journal *j)
{
	free(j->entries);
	free(j->by_addr);
	free_set(j->kept);
	if (j->existed)
		close(j->fd);
	*j = (struct journal){ 0 };
}

const struct journal_entry *journal_find(const struct journal *j, struct usb_addr addr)
{
	bool found;
	size_t k = index_position(j, addr, &found);
	return found ? &j->entries[j->by_addr[k]] : NULL;
}

/* Indexes the entries read, one per node. */
static int index_entries(struct journal *j)
{
	size_t *scratch = malloc((j->count ? j->count : 1) * sizeof *scratch);
	if (!scratch)
		return -1;
	for (size_t i = 0; i < j->count; i++)
		j->by_addr[i] = i;
	sort_index(j, scratch);
	free(scratch);
	return 0;
}

/* Whether the line e is one the reader asked for: a node of devices (NULL: every node), or of vmid. */
static bool wanted(const struct usb_device_list *devices, const char *vmid, const struct journal_entry *e)
{
	return !devices || sysfs_find(devices, e->addr) || (vmid && vmid[0] && vmid_equal(e->vmid, vmid));
}

/*
 * Reads the records of r into j: the first line of each node (a later one is
 * not its original owner) when wanted; j->kept marks the nodes kept.  0, or
 * -1 with err set.
 */
static int read_records(struct reader *r, const struct usb_device_list *devices, const char *vmid,
			struct journal *j, struct error *err)
{
	unsigned char **seen = NULL;
	struct journal_entry e;
	int rc;
	while ((rc = next_record(r, &e, err)) > 0) {
		if (in_set(seen, e.addr))
			continue;
		bool keep = wanted(devices, vmid, &e);
		if (add_to_set(&seen, e.addr) < 0 || (keep && reserve(j, j->count + 1) < 0) ||
		    (keep && add_to_set(&j->kept, e.addr) < 0)) {
			error_set(err, "%s", strerror(ENOMEM));
			rc = -1;
			break;
		}
		if (keep)
			j->entries[j->count++] = e;
	}
	free_set(seen);
	if (rc == 0 && index_entries(j) < 0) {
		error_set(err, "%s", strerror(ENOMEM));
		rc = -1;
	}
	j->from_file = j->count;
	return rc;
}

int journal_parse(const char *text, size_t len, struct journal *j, struct error *err)
{
	struct reader r = reader_of_text(text, len);
	*j = (struct journal){ 0 };
	if (read_records(&r, NULL, NULL, j, err) < 0) {
		journal_free(j);
		return -1;
	}
	/* no file to stream them from: journal_commit writes them as added ones */
	free_set(j->kept);
	j->kept = NULL;
	j->from_file = 0;
	return 0;
}

/* Opens the journal file as it must be: 0; 1 when there is none; -1 with err set. */
static int open_journal(const char *path, int *fd, struct stat *st, struct error *err)
{
	const char *wrong;
	*fd = open_regular(path, 0, MAX_JOURNAL_BYTES, st, &wrong);
	if (*fd == OPEN_MISSING)
		return 1;
	if (*fd < 0) {
		error_set(err, "%s: %s", path, wrong);
		return -1;
	}
	return 0;
}

int journal_read(const char *root, const struct usb_device_list *devices, const char *vmid, struct journal *j,
		 struct error *err)
{
	char path[PATH_SIZE];
	*j = (struct journal){ 0 };
	if (path_under_root(root, JOURNAL_PATH, path, sizeof path, err) < 0)
		return -1;
	struct stat st;
	int fd, found = open_journal(path, &fd, &st, err);
	if (found != 0)
		return found < 0 ? -1 : 0;
	j->fd = fd;
	j->existed = true;
	j->dev = st.st_dev;
	j->ino = st.st_ino;
	char buf[READ_BUFFER_BYTES];
	struct reader r = reader_of_fd(fd, buf);
	struct error why;
	if (read_records(&r, devices, vmid, j, &why) < 0) {
		error_set(err, "%s: %s", path, why.message);
		journal_free(j);
		return -1;
	}
	return 0;
}

bool journal_current(const char *root, const struct journal *j)
{
	char path[PATH_SIZE];
	struct stat st;
	if (root_path(root, JOURNAL_PATH, path, sizeof path) < 0)
		return false;
	if (lstat(path, &st) < 0)
		return errno == ENOENT && !j->existed;
	return j->existed && st.st_dev == j->dev && st.st_ino == j->ino;
}

int journal_add(struct journal *j, struct usb_addr addr, unsigned uid, unsigned gid, const char *vmid,
		unsigned mode)
{
	bool found;
	size_t k = index_position(j, addr, &found);
	if (found)
		return 0;
	if (reserve(j, j->count + 1) < 0)
		return -1;
	struct journal_entry *e = &j->entries[j->count];
	*e = (struct journal_entry){ .addr = addr, .uid = uid, .gid = gid, .has_mode = true, .mode = mode & 07777 };
	format(e->vmid, sizeof e->vmid, "%s", vmid);
	memmove(&j->by_addr[k + 1], &j->by_addr[k], (j->count - k) * sizeof *j->by_addr);
	j->by_addr[k] = j->count++;
	return 0;
}

int journal_drop(struct journal *j, const bool *drop)
{
	size_t *new_index = malloc((j->count ? j->count : 1) * sizeof *new_index);
	if (!new_index)
		return -1;
	size_t from_file = 0;
	for (size_t i = 0; i < j->from_file; i++)
		from_file += !drop[i];
	compact(j, drop, new_index);
	j->from_file = from_file;
	free(new_index);
	return 0;
}

size_t journal_format(const struct journal *j, char *buf, size_t size)
{
	char line[ENTRY_TEXT_MAX];
	size_t used = 0;
	for (size_t i = 0; i < j->count; i++) {
		size_t n = format_entry(&j->entries[i], line);
		if (n >= size - used)
			return (size_t)-1;
		memcpy(buf + used, line, n);
		used += n;
	}
	if (size > 0)
		buf[used] = '\0';
	return used;
}

/* Whether the file's line of the node at addr is still held (not dropped). */
static bool still_held(const struct journal *j, struct usb_addr addr)
{
	const struct journal_entry *e = journal_find(j, addr);
	return e && (size_t)(e - j->entries) < j->from_file;
}

/*
 * The file as read, one line a record, less the lines of the nodes dropped
 * (and later lines of a node, which were never its original owner), then the
 * added entries, to w.  0, or -1 with err set (errno too for a write).
 */
static int write_entries(const struct journal *j, struct writer *w, unsigned char ***seen, char *in,
			 struct error *err)
{
	int rc = 0;
	if (j->existed) {
		struct reader r = reader_of_fd(j->fd, in);
		struct journal_entry e;
		if (lseek(j->fd, 0, SEEK_SET) < 0) {
			error_set(err, "%s", strerror(errno));
			return -1;
		}
		while ((rc = next_record(&r, &e, err)) > 0) {
			if (in_set(*seen, e.addr))
				continue;
			if (add_to_set(seen, e.addr) < 0) {
				error_set(err, "%s", strerror(ENOMEM));
				return -1;
			}
			if ((!in_set(j->kept, e.addr) || still_held(j, e.addr)) && put_entry(w, &e) < 0) {
				error_set(err, "%s", strerror(errno));
				return -1;
			}
		}
	}
	/* an added node the file has a line of (one read had no use for) keeps that line */
	for (size_t i = j->from_file; rc == 0 && i < j->count; i++) {
		struct usb_addr a = j->entries[i].addr;
		if ((!in_set(*seen, a) || in_set(j->kept, a)) && put_entry(w, &j->entries[i]) < 0) {
			error_set(err, "%s", strerror(errno));
			return -1;
		}
	}
	if (rc == 0 && flush(w) < 0) {
		error_set(err, "%s", strerror(errno));
		return -1;
	}
	return rc;
}

/*
 * Fills the temporary file of r with the new journal: written through a
 * fixed buffer, never larger than one that can be read.  0, or -1 with err set.
 * Not inlined: its two buffers then share the stack below journal_commit
 * with replacement_begin's frame instead of adding to it (a page fault less).
 */
__attribute__((noinline)) static int fill_new_journal(const struct journal *j, struct replacement *r, struct error *err)
{
	unsigned char **seen = NULL;
	char in[READ_BUFFER_BYTES], out[WRITE_BUFFER_BYTES];
	struct writer w = { .fd = r->fd, .buf = out };
	struct error why;
	int rc = -1;
	if (write_entries(j, &w, &seen, in, &why) < 0)
		error_set(err, "%s%s: %s", r->path, r->suffix, why.message);
	else if (w.total > MAX_JOURNAL_BYTES)
		error_set(err, "journal: %zu bytes, over the %u a journal may have", w.total, MAX_JOURNAL_BYTES);
	else
		rc = 0;
	free_set(seen);
	return rc;
}

/* The temporary file of a new journal, mode 0644: 0, or -1 with err set. */
static int begin_journal(const char *path, struct replacement *r, struct error *err)
{
	if (replacement_begin(r, path, TEMP_SUFFIX, err) < 0)
		return -1;
	if (fchmod(r->fd, 0644) == 0)
		return 0;
	error_set(err, "%s%s: %s", r->path, r->suffix, strerror(errno));
	replacement_abandon(r);
	return -1;
}

int journal_commit(const char *root, const struct journal *j, struct error *err)
{
	char path[PATH_SIZE];
	struct replacement r;
	if (path_under_root(root, JOURNAL_PATH, path, sizeof path, err) < 0 || begin_journal(path, &r, err) < 0)
		return -1;
	if (fill_new_journal(j, &r, err) < 0) {
		replacement_abandon(&r);
		return -1;
	}
	return replacement_commit(&r, true, err);
}

/* Copies the file as read to fd.  0, or -1 with errno set. */
static int copy_original(const struct journal *j, int fd)
{
	char buf[READ_BUFFER_BYTES];
	int rc = lseek(j->fd, 0, SEEK_SET) == 0 ? 0 : -1;
	for (ssize_t n = 1; rc == 0 && n > 0;) {
		n = read(j->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0 || write_all(fd, buf, (size_t)n) < 0)
			rc = -1;
	}
	return rc;
}

int journal_restore(const char *root, const struct journal *j, struct error *err)
{
	char path[PATH_SIZE];
	struct replacement r;
	if (path_under_root(root, JOURNAL_PATH, path, sizeof path, err) < 0)
		return -1;
	if (!j->existed) {
		if (unlink(path) < 0 && errno != ENOENT) {
			error_set(err, "%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (begin_journal(path, &r, err) < 0)
		return -1;
	if (copy_original(j, r.fd) < 0) {
		error_set(err, "%s%s: %s", r.path, r.suffix, strerror(errno));
		replacement_abandon(&r);
		return -1;
	}
	return replacement_commit(&r, true, err);
}

/* ---- the lock ---- */

/*
 * Makes the journal's directory dir (<root>JOURNAL_DIR) and those above it
 * that are missing (the first start on a host), from <root>/var down: each
 * named by cutting dir short at its next slash, and put back.
 */
static int make_journal_dirs(char *dir, struct error *err)
{
	char *end = dir + strlen(dir);
	for (char *cut = strchr(end - (sizeof JOURNAL_DIR - 2), '/');; cut = strchr(cut + 1, '/')) {
		*(cut ? cut : end) = '\0';
		bool made = mkdir(dir, 0755) == 0 || errno == EEXIST;
		if (!made)
			error_set(err, "%s: %s", dir, strerror(errno));
		if (cut)
			*cut = '/';
		if (!made || !cut)
			return made ? 0 : -1;
	}
}

/*
 * Makes the lock file open as fd what it must be: mode LOCK_MODE and owned
 * like the journal's directory dir, so that root and the hook's user share
 * it and nobody else may open it to hold the lock.  Root makes it so; its
 * owner may set its mode; anyone else refuses a file others may open (one
 * an older version made 0644, say).
 */
static int secure_lock(int fd, const struct stat *lock, const struct stat *dir, const char *path,
		       struct error *err)
{
	bool root = geteuid() == 0, mode_ok = (lock->st_mode & 07777) == LOCK_MODE;
	bool owner_ok = !root || (lock->st_uid == dir->st_uid && lock->st_gid == dir->st_gid);
	if (mode_ok && owner_ok)
		return 0;
	if (!root && lock->st_uid != geteuid()) {
		error_set(err, "%s: mode %04o, owner %u:%u: others may open it and hold the lock, blocking every start "
			  "and destroy; as root: chmod %04o %s && chown %u:%u %s", path, (unsigned)lock->st_mode & 07777,
			  (unsigned)lock->st_uid, (unsigned)lock->st_gid, LOCK_MODE, path, (unsigned)dir->st_uid,
			  (unsigned)dir->st_gid, path);
		return -1;
	}
	if ((!mode_ok && fchmod(fd, LOCK_MODE) < 0) || (!owner_ok && fchown(fd, dir->st_uid, dir->st_gid) < 0)) {
		error_set(err, "%s: cannot make it mode %04o, owner %u:%u (like its directory): %s", path, LOCK_MODE,
			  (unsigned)dir->st_uid, (unsigned)dir->st_gid, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Opens (or makes) the lock file path, with the directories above it when
 * they are missing (the first start on a host), and secures it like the
 * journal's directory dir_path.
 */
static int open_lock(char *dir_path, const char *path, struct error *err)
{
	struct stat st, dir;
	const char *wrong;
	int fd = open_regular(path, O_CREAT, 0, &st, &wrong);
	if (fd == OPEN_MISSING) {
		if (make_journal_dirs(dir_path, err) < 0)
			return -1;
		fd = open_regular(path, O_CREAT, 0, &st, &wrong);
	}
	if (fd < 0) {
		error_set(err, "%s: %s", path, wrong);
		return -1;
	}
	if (stat(dir_path, &dir) < 0) {
		error_set(err, "%s: %s", dir_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (secure_lock(fd, &st, &dir, path, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Removes the temporary file a run killed between naming it and renaming it
 * left; called under the lock, with a buffer of the lock's that is free by
 * then.  Should that fail, the next write says why.
 */
static void remove_stale_temp(const char *root, char *path, size_t size)
{
	if (root_path(root, JOURNAL_PATH TEMP_SUFFIX, path, size) == 0)
		(void)unlink(path);
}

int journal_lock(const char *root, unsigned wait_seconds, struct error *err)
{
	char dir[PATH_SIZE], path[PATH_SIZE];
	if (path_under_root(root, JOURNAL_DIR, dir, sizeof dir, err) < 0 ||
	    path_under_root(root, LOCK_PATH, path, sizeof path, err) < 0)
		return -1;
	int fd = open_lock(dir, path, err);
	if (fd < 0)
		return -1;
	const struct timespec pause = { 0, 10L * 1000 * 1000 };
	for (unsigned long waited_ms = 0;; waited_ms += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			remove_stale_temp(root, dir, sizeof dir);
			return fd;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set(err, "%s: %s", path, strerror(errno));
			break;
		}
		if (waited_ms >= wait_seconds * 1000ul) {
			error_set(err, "%s: the lock is still held after %u s (lslocks shows which process holds it)",
				  path, wait_seconds);
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(fd);
	return -1;
}
