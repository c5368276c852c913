/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the journal (journal.h): the records it reads, old forms
 * included, and the records it refuses; a journal of 1 MiB in memory; and the
 * journal streamed from and written back to its file under a temporary root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "check.h"

static struct error err;

static int parse_journal_text(const char *text, struct journal *j)
{
	return journal_parse(text, strlen(text), j, &err);
}


static void test_journal(void)
{
	struct journal j;
	CHECK("journal: our lines with vmId",
	      parse_journal_text("/dev/bus/usb/001/002:0:0:vm-1\n/dev/bus/usb/002/010:36:107:vm-2\n", &j) == 0 &&
	      j.count == 2 && j.entries[1].uid == 36 && j.entries[1].gid == 107 &&
	      strcmp(j.entries[1].vmid, "vm-2") == 0 && j.entries[1].addr.bus == 2 && j.entries[1].addr.device == 10);
	journal_free(&j);
	CHECK("journal: the Python hook's lines run together are read",
	      parse_journal_text("/dev/bus/usb/001/002:0:0/dev/bus/usb/001/003:5:6", &j) == 0 && j.count == 2 &&
	      j.entries[1].addr.bus == 1 && j.entries[1].addr.device == 3 && j.entries[1].uid == 5 &&
	      j.entries[1].gid == 6 && j.entries[0].vmid[0] == '\0');
	journal_free(&j);
	CHECK("journal: lines with a mode, with and without vmId; older lines have none",
	      parse_journal_text("/dev/bus/usb/001/002:0:0:vm-1:0600\n/dev/bus/usb/001/003:0:5::2666\n"
				 "/dev/bus/usb/001/004:0:0:0600\n/dev/bus/usb/001/005:1:1", &j) == 0 && j.count == 4 &&
	      j.entries[0].has_mode && j.entries[0].mode == 0600 && strcmp(j.entries[0].vmid, "vm-1") == 0 &&
	      j.entries[1].has_mode && j.entries[1].mode == 02666 && j.entries[1].vmid[0] == '\0' &&
	      !j.entries[2].has_mode && strcmp(j.entries[2].vmid, "0600") == 0 && !j.entries[3].has_mode);
	journal_free(&j);
	CHECK("journal: the Python hook's lines run together, with a mode line between",
	      parse_journal_text("/dev/bus/usb/001/002:0:0/dev/bus/usb/001/003:5:6::0640/dev/bus/usb/001/004:7:8", &j) ==
		      0 && j.count == 3 && j.entries[1].mode == 0640 && j.entries[2].uid == 7);
	journal_free(&j);
	CHECK("journal: empty and blank", parse_journal_text("", &j) == 0 && j.count == 0);
	journal_free(&j);
	CHECK("journal: blank lines between records",
	      parse_journal_text("\n/dev/bus/usb/001/002:0:0\n\n", &j) == 0 && j.count == 1);
	journal_free(&j);
	CHECK("journal: a later line for the same node keeps the first owner",
	      parse_journal_text("/dev/bus/usb/001/002:0:0:a\n/dev/bus/usb/001/002:107:107:a\n", &j) == 0 &&
	      j.count == 1 && j.entries[0].uid == 0);
	journal_free(&j);
	static const char *const bad[] = {
		"garbage\n", "/dev/bus/usb/1/2:0:0\n", "/dev/bus/usb/001/002:0\n", "/dev/bus/usb/001/002:0:0:\n",
		"/dev/bus/usb/001/002:0:0:bad id\n", "/dev/bus/usb/001/002:4294967295:0\n",
		"/dev/bus/usb/001/002::0\n", "/dev/bus/usb/001/002:0:0x\n", "/etc/shadow:0:0\n",
		"/dev/bus/usb/001/002:0:0:vm:600\n", "/dev/bus/usb/001/002:0:0:vm:0800\n",
		"/dev/bus/usb/001/002:0:0:vm:06000\n", "/dev/bus/usb/001/002:0:0:vm:\n", "/dev/bus/usb/001/002:0:0::\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "journal: rejects record %zu", i);
		CHECK(name, parse_journal_text(bad[i], &j) < 0);
		journal_free(&j);
	}
	const char *text = "/dev/bus/usb/001/002:0:0:vm-1\n/dev/bus/usb/003/004:1:2\n/dev/bus/usb/003/005:1:2::7777\n"
			   "/dev/bus/usb/003/006:1:2:vm-2:0000\n";
	char out[256];
	CHECK("journal: format gives back what was parsed",
	      parse_journal_text(text, &j) == 0 && journal_format(&j, out, sizeof out) == strlen(text) &&
	      memcmp(out, text, strlen(text)) == 0);
	CHECK("journal: format refuses a short buffer", journal_format(&j, out, 20) == (size_t)-1);
	journal_free(&j);
}


/* A journal of 1 MiB: 43,690 lines, in no order. */
static void test_journal_large(void)
{
	enum { LINES = 43690 };
	size_t size = (size_t)LINES * 26 + 1, len = 0;
	char *text = malloc(size);
	struct journal j;
	if (!CHECK("journal of 43,690 lines: memory", text != NULL))
		return;
	/* in no order: the multiplier walks every (bus, device) once */
	for (unsigned i = 0; i < LINES; i++) {
		unsigned k = (i * 7919u) % LINES;
		len += (size_t)snprintf(text + len, size - len, "/dev/bus/usb/%03u/%03u:0:0\n", k / 999 + 1, k % 999 + 1);
	}
	CHECK("journal of 43,690 lines: every line read", journal_parse(text, len, &j, &err) == 0 && j.count == LINES);
	int found = 1;
	for (unsigned k = 0; k < LINES; k++) {
		const struct journal_entry *e = journal_find(&j, (struct usb_addr){ k / 999 + 1, k % 999 + 1 });
		found &= e && e->addr.bus == k / 999 + 1 && e->addr.device == k % 999 + 1;
	}
	CHECK("journal of 43,690 lines: every node found", found);
	CHECK("journal of 43,690 lines: a node it does not hold", !journal_find(&j, (struct usb_addr){ 999, 999 }));
	bool *drop = calloc(LINES, sizeof *drop);
	for (size_t i = 0; drop && i < LINES; i += 2)
		drop[i] = true;
	CHECK("journal of 43,690 lines: half dropped, the rest in order and found",
	      drop && journal_drop(&j, drop) == 0 && j.count == LINES / 2 &&
	      journal_find(&j, j.entries[7].addr) == &j.entries[7] &&
	      journal_find(&j, j.entries[j.count - 1].addr) == &j.entries[j.count - 1]);
	CHECK("journal of 43,690 lines: added at the end, once", journal_add(&j, (struct usb_addr){ 999, 999 }, 1, 2, "vm", 0600) == 0 &&
	      journal_add(&j, (struct usb_addr){ 999, 999 }, 3, 4, "vm", 0666) == 0 && j.count == LINES / 2 + 1 &&
	      journal_find(&j, (struct usb_addr){ 999, 999 }) == &j.entries[j.count - 1] && j.entries[j.count - 1].uid == 1);
	free(drop);
	free(text);
	journal_free(&j);
}


static int put_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	return f && fwrite(text, 1, len, f) == len && fclose(f) == 0 ? 0 : -1;
}


/* Whether the file holds exactly text. */
static bool file_holds(const char *path, const char *text, size_t len)
{
	char *data = NULL;
	size_t got = 0;
	bool same = read_small_file(path, 8u << 20, &data, &got, false, &err) == 0 && got == len &&
		    memcmp(data, text, len) == 0;
	free(data);
	return same;
}


/* Our lines, 120 KiB of them: each read whole across the read buffer's edges, and written back unchanged. */
static void test_journal_stream_ours(const char *root, const char *path)
{
	enum { LINES = 2000 };
	size_t size = (size_t)LINES * 64, len = 0;
	char *text = malloc(size);
	struct journal j;
	if (!CHECK("journal stream: memory", text != NULL))
		return;
	for (unsigned i = 0; i < LINES; i++)
		len += (size_t)snprintf(text + len, size - len, "/dev/bus/usb/%03u/%03u:%u:%u:vm-%u:%04o\n", i / 250 + 1,
					i % 250 + 1, i * 7, i * 13, i % 5, i & 07777);
	CHECK("journal stream: the file is larger than the read buffer", put_file(path, text, len) == 0 && len > 65536);
	bool same = journal_read(root, NULL, NULL, &j, &err) == 0 && j.count == LINES && j.from_file == LINES;
	for (unsigned i = 0; same && i < LINES; i++) {
		const struct journal_entry *e = journal_find(&j, (struct usb_addr){ i / 250 + 1, i % 250 + 1 });
		char vmid[16];
		snprintf(vmid, sizeof vmid, "vm-%u", i % 5);
		same = e == &j.entries[i] && e->uid == i * 7 && e->gid == i * 13 && strcmp(e->vmid, vmid) == 0 &&
		       e->has_mode && e->mode == (i & 07777);
	}
	CHECK("journal stream: every record read whole, those across the buffer's edges too", same);
	CHECK("journal stream: a commit of what was read writes the same bytes",
	      journal_commit(root, &j, &err) == 0 && file_holds(path, text, len));
	journal_free(&j);
	memcpy(text + len, "garbage\n", 8);
	CHECK("journal stream: a malformed record after the first buffer, named by its line",
	      put_file(path, text, len + 8) == 0 && journal_read(root, NULL, NULL, &j, &err) < 0 &&
	      strstr(err.message, ": line 2001: malformed record") != NULL && j.count == 0);
	free(text);
}


/*
 * The Python hook's records run together, 1 MiB, with one of our lines among
 * them: a read keeping 3 of 43,690 lines, a rewrite without one of them and
 * with a line added, then the original put back.
 */
static void test_journal_stream_python(const char *root, const char *path)
{
	enum { RECORDS = 43690, OURS_AT = 20000, DROPPED = 30000 };
	static const char ours[] = "/dev/bus/usb/900/001:5:6:vm-a:0600\n";
	size_t size = (size_t)RECORDS * 26 + 64, len = 0, want_len = 0;
	char *text = malloc(size), *want = malloc(size);
	struct journal j;
	if (!CHECK("journal stream, Python's form: memory", text && want)) {
		free(text);
		free(want);
		return;
	}
	for (unsigned i = 0; i < RECORDS; i++) {
		const char *record = text + len;
		len += (size_t)snprintf(text + len, size - len, "/dev/bus/usb/%03u/%03u:0:0", 2 + i / 127, 1 + i % 127);
		if (i != DROPPED)
			want_len += (size_t)snprintf(want + want_len, size - want_len, "%.24s\n", record);
		if (i == OURS_AT) {
			len += (size_t)snprintf(text + len, size - len, "%s", ours);
			want_len += (size_t)snprintf(want + want_len, size - want_len, "%s", ours);
		}
	}
	want_len += (size_t)snprintf(want + want_len, size - want_len, "/dev/bus/usb/999/999:1:2:vm-b:0640\n");
	struct usb_device devices[] = {
		{ .addr = { 2, 1 } }, { .addr = { 2 + DROPPED / 127, 1 + DROPPED % 127 } },
		{ .addr = { 2 + (RECORDS - 1) / 127, 1 + (RECORDS - 1) % 127 } }, { .addr = { 999, 999 } },
	};
	const struct usb_device_list list = { devices, 4 };
	CHECK("journal stream, Python's form: 1 MiB written", put_file(path, text, len) == 0 && len > (1u << 20));
	CHECK("journal stream, Python's form: a read keeps only the lines of the devices and the vmId asked for",
	      journal_read(root, &list, "vm-a", &j, &err) == 0 && j.count == 4 &&
	      journal_find(&j, devices[0].addr) && journal_find(&j, devices[1].addr) &&
	      journal_find(&j, devices[2].addr) && !journal_find(&j, devices[3].addr) &&
	      journal_find(&j, (struct usb_addr){ 900, 1 }) && journal_find(&j, (struct usb_addr){ 900, 1 })->uid == 5);
	bool drop[4] = { false };
	drop[journal_find(&j, devices[1].addr) - j.entries] = true;
	CHECK("journal stream, Python's form: a rewrite without a dropped line, with an added one, one line a record",
	      journal_drop(&j, drop) == 0 && journal_add(&j, devices[3].addr, 1, 2, "vm-b", 0640) == 0 &&
	      journal_commit(root, &j, &err) == 0 && file_holds(path, want, want_len));
	CHECK("journal stream, Python's form: the original put back after the rewrite",
	      journal_restore(root, &j, &err) == 0 && file_holds(path, text, len));
	journal_free(&j);
	free(text);
	free(want);
}


/* A later line of a node is not its original owner, whichever the reader asks for. */
static void test_journal_stream_duplicates(const char *root, const char *path)
{
	static const char text[] = "/dev/bus/usb/001/002:0:0:vm-a\n/dev/bus/usb/001/003:1:1:vm-b\n"
				   "/dev/bus/usb/001/002:107:107:vm-b\n";
	static const char first_lines[] = "/dev/bus/usb/001/002:0:0:vm-a\n/dev/bus/usb/001/003:1:1:vm-b\n";
	const struct usb_device_list no_devices = { NULL, 0 };
	struct journal j;
	CHECK("journal stream, duplicates: a later line of a node is not one of its vmId",
	      put_file(path, text, sizeof text - 1) == 0 && journal_read(root, &no_devices, "vm-b", &j, &err) == 0 &&
	      j.count == 1 && j.entries[0].addr.device == 3);
	CHECK("journal stream, duplicates: an added node the file has a line of keeps that line, the later one goes",
	      journal_add(&j, (struct usb_addr){ 1, 2 }, 5, 5, "vm-b", 0600) == 0 && journal_commit(root, &j, &err) == 0 &&
	      file_holds(path, first_lines, sizeof first_lines - 1));
	journal_free(&j);
}


/* n records of the Python hook's form, "/dev/bus/usb/BBB/DDD:0:0", run together or (nl) one a line */
static size_t python_records(char *text, size_t n, bool nl)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "/dev/bus/usb/%03zu/%03zu:0:0%s", 2 + i / 127, 1 + i % 127,
				       nl ? "\n" : "");
	return len;
}

static void test_journal_limits(const char *root, const char *path)
{
	const struct usb_device_list none = { NULL, 0 };
	size_t full = JOURNAL_MAX_BYTES, len;
	struct journal j;
	char *text = malloc(full + 64);
	if (!CHECK("journal limits: memory", text))
		return;
	/* the Python hook's records run together, 2 MiB: 87,381 records, 24 bytes each */
	len = python_records(text, (2u << 20) / 24, false);
	CHECK("journal limits: 2 MiB run together, read", put_file(path, text, len) == 0 && len == 2097144 &&
	      journal_read(root, &none, NULL, &j, &err) == 0);
	CHECK("journal limits: 2 MiB run together, written back one record a line (larger)",
	      journal_add(&j, (struct usb_addr){ 1, 2 }, 0, 0, "vm-a", 0600) == 0 && journal_commit(root, &j, &err) == 0);
	journal_free(&j);
	len = python_records(text, (2u << 20) / 24, true);
	len += (size_t)sprintf(text + len, "/dev/bus/usb/001/002:0:0:vm-a:0600\n");
	CHECK("journal limits: ... that is 2,184,525 bytes and the added line, read again",
	      file_holds(path, text, len) && len == 2184525 + 35 && journal_read(root, &none, NULL, &j, &err) == 0);
	journal_free(&j);

	/* as large as the limit, run together: one a line it would be larger, so it is not read */
	len = python_records(text, full / 24, false);
	CHECK("journal limits: the limit's size run together, refused as it would be written back",
	      put_file(path, text, len) == 0 && len == full && journal_read(root, &none, NULL, &j, &err) < 0 &&
	      strstr(err.message, "bytes a journal may have once written back one record a line") != NULL);

	/* as large as the limit, one record a line: read, written back, but not grown */
	len = python_records(text, full / 25 - 1, true);
	len += (size_t)sprintf(text + len, "/dev/bus/usb/999/001:0:0:%015d:0600\n", 0);
	CHECK("journal limits: the limit's size one record a line, read", put_file(path, text, len) == 0 &&
	      len == full && journal_read(root, &none, NULL, &j, &err) == 0);
	CHECK("journal limits: ... written back as it is", journal_commit(root, &j, &err) == 0 &&
	      file_holds(path, text, len));
	CHECK("journal limits: ... a line more is refused, the file as it was",
	      journal_add(&j, (struct usb_addr){ 1, 2 }, 0, 0, "vm-a", 0600) == 0 && journal_commit(root, &j, &err) < 0 &&
	      strstr(err.message, "a journal may have") != NULL && file_holds(path, text, len));
	journal_free(&j);
	memset(text, '\n', full + 1);
	CHECK("journal limits: a byte more in the file is refused", put_file(path, text, full + 1) == 0 &&
	      journal_read(root, NULL, NULL, &j, &err) < 0 && strstr(err.message, ": file too large") != NULL);
	free(text);
}

/* j holds exactly one entry, of the node 001/00<device> and uid uid. */
static bool holds_one(const struct journal *j, unsigned device, unsigned uid)
{
	const struct journal_entry *e = journal_find(j, (struct usb_addr){ 1, device });
	return j->count == 1 && e && e->uid == uid;
}

/*
 * A journal read before the lock and looked at again under it: current while
 * the file is the one it holds open (even when written to in place, which no
 * run does), not once another file was renamed over it or it is gone.
 */
static void test_journal_current(const char *root, const char *path)
{
	char other[440];
	struct journal j;
	snprintf(other, sizeof other, "%s.other", path);
	unlink(path);
	CHECK("journal current: none, still none",
	      journal_read(root, NULL, NULL, &j, &err) == 0 && !j.existed && journal_current(root, &j));
	CHECK("journal current: none, then one made: not",
	      put_file(path, "/dev/bus/usb/001/002:1:1:a:0600\n", 32) == 0 && !journal_current(root, &j));
	journal_free(&j);
	CHECK("journal current: the file read, unchanged",
	      journal_read(root, NULL, NULL, &j, &err) == 0 && holds_one(&j, 2, 1) && journal_current(root, &j));
	CHECK("journal current: the same file, written in place",
	      put_file(path, "/dev/bus/usb/001/003:2:2:a:0600\n", 32) == 0 && journal_current(root, &j));
	CHECK("journal current: another file renamed over it: not",
	      put_file(other, "/dev/bus/usb/001/004:3:3:a:0600\n", 32) == 0 && rename(other, path) == 0 &&
	      !journal_current(root, &j));
	journal_free(&j);
	CHECK("journal current: that one read, then removed: not",
	      journal_read(root, NULL, NULL, &j, &err) == 0 && holds_one(&j, 4, 3) && journal_current(root, &j) &&
	      unlink(path) == 0 && !journal_current(root, &j));
	journal_free(&j);
}

static void test_journal_stream(void)
{
	char root[256], path[400];
	struct journal j;
	if (!CHECK("journal stream: a temporary root", temp_dir(root, sizeof root, "unit_journal")))
		return;
	int lock = journal_lock(root, 1, &err);
	snprintf(path, sizeof path, "%s%s", root, JOURNAL_PATH);
	if (!CHECK("journal stream: the lock, the directories made", lock >= 0))
		return;
	CHECK("journal stream: none is empty", journal_read(root, NULL, NULL, &j, &err) == 0 && j.count == 0 &&
	      !j.existed);
	CHECK("journal stream: none after a commit and a restore", journal_add(&j, (struct usb_addr){ 1, 2 }, 0, 0, "a", 0600) == 0 &&
	      journal_commit(root, &j, &err) == 0 && file_holds(path, "/dev/bus/usb/001/002:0:0:a:0600\n", 32) &&
	      journal_restore(root, &j, &err) == 0 && access(path, F_OK) < 0);
	journal_free(&j);
	test_journal_stream_ours(root, path);
	test_journal_stream_python(root, path);
	test_journal_stream_duplicates(root, path);
	test_journal_limits(root, path);
	test_journal_current(root, path);
	char lock_path[420];
	snprintf(lock_path, sizeof lock_path, "%s.lock", path);
	close(lock);
	unlink(path);
	unlink(lock_path);
	const char *dirs[] = { "/var/run/vdsm/hooks", "/var/run/vdsm", "/var/run", "/var", "" };
	bool removed = true;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char dir[400];
		snprintf(dir, sizeof dir, "%s%s", root, dirs[i]);
		removed &= rmdir(dir) == 0;
	}
	CHECK("journal stream: temporary root removed", removed);
}


int main(void)
{
	test_journal();
	test_journal_large();
	test_journal_stream();
	return check_status();
}
