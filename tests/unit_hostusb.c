/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of what a run is asked (request.h: property grammar, owner
 * lookup, vmId, hook point, options, hostdev text) and of the journal
 * (journal.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "request.h"
#include "check.h"

static struct error err;

/* A new directory NAME.XXXXXX in $TMPDIR (or /tmp), its path in buf: whether it was made. */
static bool temp_dir(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(buf, size, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
	return mkdtemp(buf) != NULL;
}

static int property_ok(const char *text, size_t want_count)
{
	struct request req = { .count = 0 };
	return parse_property(text, &req, &err) == 0 && req.count == want_count;
}

static void test_property(void)
{
	struct request req;
	CHECK("property: one entry", property_ok("0x1234:0xbeef", 1));
	CHECK("property: two entries", property_ok("0x1234:0xbeef&0x2222:0xABAA", 2));
	CHECK("property: ids parsed numerically",
	      parse_property("0x0627:0x0001&0xBEEF:0xcafe", &req, &err) == 0 && req.entries[0].id.vendor == 0x0627 &&
	      req.entries[0].id.product == 0x0001 && req.entries[1].id.vendor == 0xbeef && req.entries[1].id.product == 0xcafe);
	static const char *const bad[] = {
		"0x,,,,:0xbeef",       /* the original's regex accepted commas */
		"0X1234:0xbeef", "0x1234:0Xbeef", "0x1234:0xbee", "0x12345:0xbeef", "0x1234:0xbeef0",
		" 0x1234:0xbeef", "0x1234:0xbeef ", "0x1234:0xbeef&", "&0x1234:0xbeef",
		"0x1234:0xbeef&&0x1234:0xbeef", "0x1234;0xbeef", "0x1234:0xbeef\n", "0x12g4:0xbeef",
		"1234:beef", "0x1234:0xbeef,0x1234:0xbeef", "0x-123:0xbeef", "&",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "property: rejects bad entry %zu", i);
		CHECK(name, parse_property(bad[i], &req, &err) < 0);
	}
	char many[MAX_ENTRIES * 14 + 20] = "";
	for (int i = 0; i < MAX_ENTRIES; i++)
		strcat(many, i ? "&0x1234:0xbeef" : "0x1234:0xbeef");
	CHECK("property: the maximum number of entries is accepted", property_ok(many, MAX_ENTRIES));
	strcat(many, "&0x1234:0xbeef");
	CHECK("property: one entry more is refused", parse_property(many, &req, &err) < 0);
}

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

static void test_owner_db(void)
{
	const char *passwd = "root:x:0:0:root:/root:/bin/sh\nqemu2:x:7:7::/:/bin/false\nqemu:x:107:107:qemu:/:/sbin/nologin\n"
			     "broken:x:abc:1::/:\nshort:x";
	unsigned id = 0;
	CHECK("owner: finds qemu, not qemu2", lookup_db(passwd, "qemu", 4, &id) == 0 && id == 107);
	CHECK("owner: first line", lookup_db(passwd, "root", 4, &id) == 0 && id == 0);
	CHECK("owner: missing name", lookup_db(passwd, "vdsm", 4, &id) < 0);
	CHECK("owner: malformed id", lookup_db(passwd, "broken", 6, &id) < 0);
	CHECK("owner: truncated line", lookup_db(passwd, "short", 5, &id) < 0);
	CHECK("owner: group without members", lookup_db("kvm:x:36\n", "kvm", 3, &id) == 0 && id == 36);
}

static void test_vmid(void)
{
	CHECK("vmId: a UUID", check_vmid("6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de", &err) == 0);
	CHECK("vmId: refuses a path", check_vmid("../../etc", &err) < 0);
	CHECK("vmId: refuses a colon", check_vmid("a:b", &err) < 0);
	CHECK("vmId: refuses a newline", check_vmid("a\nb", &err) < 0);
	char longid[VMID_MAX + 2];
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	CHECK("vmId: refuses 65 characters", check_vmid(longid, &err) < 0);
}

/* command_of_program(TOP/rel) run as a hook (_hook_domxml set) or not: 0 or -1, and the command in *command */
static int program_command_as(const char *top, const char *rel, bool hook, enum command *command)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", top, rel);
	*command = CMD_NONE;
	return command_of_program(path, hook, command, &err);
}

static int program_command(const char *top, const char *rel, enum command *command)
{
	return program_command_as(top, rel, false, command);
}

static void test_hook_point(void)
{
	static const char *const dirs[] = {
		"hooks", "hooks/before_vm_start", "hooks/after_vm_destroy", "hooks/before_vm_migrate_source",
		"hooks/before_vm_stop", "hooks/before_vm_startx", "sbin", "opt", "opt/migrate", "opt/start", "vdsm",
		"vdsm/hooks", "vdsm2",
	};
	/* vdsm/hooks/POINT: links to directories of other names */
	static const char *const links[][2] = {
		{ "../../opt/migrate", "vdsm/hooks/before_vm_migrate_source" },
		{ "../../opt/start", "vdsm/hooks/before_vm_start" },
		{ "../../hooks/after_vm_destroy", "vdsm/hooks/after_vm_destroy" },
		{ "../hooks/after_vm_destroy", "opt/destroy" },
		{ "../hooks/after_vm_destroy", "vdsm2/before_vm_start" },
	};
	char top[256], path[512];
	enum command c;
	if (!CHECK("hook point: a temporary directory", temp_dir(top, sizeof top, "unit_hostusb")))
		return;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", top, dirs[i]);
		CHECK("hook point: directory made", mkdir(path, 0755) == 0);
	}
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", top, links[i][1]);
		CHECK("hook point: link made", symlink(links[i][0], path) == 0);
	}
	CHECK("hook point: from VDSM's directory",
	      program_command(top, "hooks/before_vm_start/50_hostusb", &c) == 0 && c == CMD_BEFORE_VM_START);
	CHECK("hook point: after_vm_destroy",
	      program_command(top, "hooks/after_vm_destroy/50_hostusb", &c) == 0 && c == CMD_AFTER_VM_DESTROY);
	CHECK("hook point: migrate", program_command(top, "hooks/before_vm_migrate_source/x", &c) == 0 &&
	      c == CMD_BEFORE_VM_MIGRATE_SOURCE);
	CHECK("hook point: . and .. resolved", program_command(top, "sbin/../hooks/after_vm_destroy/./x", &c) == 0 &&
	      c == CMD_AFTER_VM_DESTROY);
	CHECK("hook point: another directory of hooks/ is refused",
	      program_command(top, "hooks/before_vm_stop/50_hostusb", &c) < 0);
	CHECK("hook point: a longer name is not one", program_command(top, "hooks/before_vm_startx/x", &c) < 0);
	CHECK("hook point: the hooks directory itself is not one", program_command(top, "hooks/x", &c) == 0 &&
	      c == CMD_LIST);
	CHECK("hook point: a program elsewhere runs list", program_command(top, "sbin/hostusb", &c) == 0 &&
	      c == CMD_LIST);
	CHECK("hook point: a directory that does not exist: list", program_command(top, "nowhere/x", &c) == 0 &&
	      c == CMD_LIST);
	c = CMD_NONE;
	CHECK("hook point: no directory part (found through PATH): list",
	      command_of_program("50_hostusb", false, &c, &err) == 0 && c == CMD_LIST);

	/* the name as given first: a hook directory that links to a directory of another name */
	CHECK("hook point: a linked directory, its name as given",
	      program_command(top, "vdsm/hooks/before_vm_migrate_source/50_hostusb", &c) == 0 &&
	      c == CMD_BEFORE_VM_MIGRATE_SOURCE);
	CHECK("hook point: a linked before_vm_start",
	      program_command_as(top, "vdsm/hooks/before_vm_start/x", true, &c) == 0 && c == CMD_BEFORE_VM_START);
	CHECK("hook point: the name as given wins over the one it resolves to",
	      program_command(top, "vdsm2/before_vm_start/x", &c) == 0 && c == CMD_BEFORE_VM_START);
	CHECK("hook point: repeated slashes", program_command(top, "vdsm/hooks/before_vm_start//x", &c) == 0 &&
	      c == CMD_BEFORE_VM_START);
	CHECK("hook point: a link of another name to a hook point's directory, resolved",
	      program_command_as(top, "opt/destroy/x", true, &c) == 0 && c == CMD_AFTER_VM_DESTROY);
	CHECK("hook point: the linked-to directory itself, not a hook: list",
	      program_command(top, "opt/migrate/50_hostusb", &c) == 0 && c == CMD_LIST);
	CHECK("hook point: the linked-to directory run as a hook: refused",
	      program_command_as(top, "opt/migrate/50_hostusb", true, &c) < 0);
	char want[1024];
	snprintf(want, sizeof want, "%s/opt/migrate/50_hostusb: run as a hook (_hook_domxml is set), but no hook point "
		 "hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source) names its directory; "
		 "install it in one of those, or give the hook point as an argument; see hostusb --help", top);
	CHECK_STR("hook point: the refusal names the program and the hook points", err.message, want);
	CHECK("hook point: a program elsewhere run as a hook: refused",
	      program_command_as(top, "sbin/hostusb", true, &c) < 0);
	CHECK("hook point: the hooks directory itself run as a hook: refused",
	      program_command_as(top, "hooks/x", true, &c) < 0);
	CHECK("hook point: a program found through PATH run as a hook: refused",
	      command_of_program("50_hostusb", true, &c, &err) < 0);
	CHECK("hook point: an empty argv[0] run as a hook: refused", command_of_program("", true, &c, &err) < 0);
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", top, links[i][1]);
		unlink(path);
	}
	for (size_t i = sizeof dirs / sizeof dirs[0]; i-- > 0;) {
		snprintf(path, sizeof path, "%s/%s", top, dirs[i]);
		rmdir(path);
	}
	CHECK("hook point: temporary directory removed", rmdir(top) == 0);
}

static int options_of(struct options *opt, int argc, const char **args)
{
	return parse_options(argc, (char **)args, false, opt, &err);
}

static void test_options(void)
{
	struct options opt;
	const char *a1[] = { "hostusb", "--root=/x", "list" };
	CHECK("options: --root=DIR list", options_of(&opt, 3, a1) == 0 && opt.command == CMD_LIST &&
	      strcmp(opt.root, "/x") == 0);
	const char *a2[] = { "hostusb", "--root", "/y", "--dry-run", "--owner", "1:2", "before_vm_start" };
	CHECK("options: a hook point's options", options_of(&opt, 7, a2) == 0 &&
	      opt.command == CMD_BEFORE_VM_START && opt.dry_run && strcmp(opt.owner, "1:2") == 0);
	const char *a3[] = { "/a/before_vm_start/50_hostusb", "after_vm_destroy" };
	CHECK("options: a named hook point wins", options_of(&opt, 2, a3) == 0 && opt.command == CMD_AFTER_VM_DESTROY);
	const char *a4[] = { "hostusb", "--bogus" };
	CHECK("options: unknown option", options_of(&opt, 2, a4) < 0);
	const char *a5[] = { "hostusb", "--root", "/z" };
	CHECK("options: no command and no hook directory: list", options_of(&opt, 3, a5) == 0 &&
	      opt.command == CMD_LIST && strcmp(opt.root, "/z") == 0);
	const char *a6[] = { "hostusb", "list", "before_vm_start" };
	CHECK("options: two commands", options_of(&opt, 3, a6) < 0);
	const char *a7[] = { "hostusb", "--lock-wait", "x1", "list" };
	CHECK("options: bad --lock-wait", options_of(&opt, 4, a7) < 0);
	const char *a8[] = { "hostusb", "--root" };
	CHECK("options: --root without a value", options_of(&opt, 2, a8) < 0);
	const char *a9[] = { "hostusb", "--root", "--dry-run", "before_vm_start" };
	CHECK("options: --root followed by an option has no value", options_of(&opt, 4, a9) < 0);
	const char *a10[] = { "hostusb", "--root=--x", "list" };
	CHECK("options: --root=VALUE takes any value", options_of(&opt, 3, a10) == 0 && strcmp(opt.root, "--x") == 0);
	const char *a11[] = { "hostusb", "--owner" };
	CHECK("options: --owner without a value", options_of(&opt, 2, a11) < 0);
	const char *a12[] = { "hostusb", "--lock-wait", "7", "after_vm_destroy" };
	CHECK("options: --lock-wait SEC", options_of(&opt, 4, a12) == 0 && opt.lock_wait == 7 &&
	      opt.command == CMD_AFTER_VM_DESTROY);
	const char *a13[] = { "hostusb", "before_vm_stop" };
	CHECK("options: an unknown command", options_of(&opt, 2, a13) < 0);
	const char *a14[] = { "hostusb", "--dry-run", "list" };
	CHECK("options: --dry-run with list", options_of(&opt, 3, a14) < 0);
	const char *a15[] = { "hostusb", "--owner", "1:2" };
	CHECK("options: --owner without a hook point", options_of(&opt, 3, a15) < 0);
	const char *a16[] = { "hostusb", "--rootx", "/y", "list" };
	CHECK("options: a longer option name is not --root", options_of(&opt, 4, a16) < 0);
	const char *a17[] = { "/nowhere/hostusb", "--root", "/y" };
	CHECK("options: no command, no hook point, run as a hook: refused",
	      parse_options(3, (char **)a17, true, &opt, &err) < 0);
	const char *a18[] = { "/nowhere/hostusb", "list" };
	CHECK("options: list named, run as a hook: list", parse_options(2, (char **)a18, true, &opt, &err) == 0 &&
	      opt.command == CMD_LIST);
	const char *a19[] = { "/nowhere/before_vm_migrate_source/x" };
	CHECK("options: no command, a hook point's directory as given",
	      parse_options(1, (char **)a19, true, &opt, &err) == 0 && opt.command == CMD_BEFORE_VM_MIGRATE_SOURCE);
}

static void test_hostdev_text(void)
{
	struct usb_id id = { 0x627, 1 };
	struct usb_addr addr = { 2, 13 };
	char text[HOSTDEV_SIZE];
	hostdev_text(id, NULL, text, sizeof text);
	CHECK_STR("hostdev: single match has the original's shape", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n  </source>\n</hostdev>");
	hostdev_text(id, &addr, text, sizeof text);
	CHECK_STR("hostdev: an ambiguous id carries the address", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n    <address bus='2' device='13'/>\n  </source>\n</hostdev>");
}

static void test_text(void)
{
	unsigned v = 7;
	CHECK("decimal: bounds kept", text_decimal("4294967294", 10, 0xfffffffeu, &v) == 0 && v == 0xfffffffeu &&
	      text_decimal("4294967295", 10, 0xfffffffeu, &v) < 0 && text_decimal("1000", 4, 999, &v) < 0);
	CHECK("decimal: no sign, space, leading zero or empty", text_decimal("-1", 2, 9, &v) < 0 &&
	      text_decimal(" 1", 2, 9, &v) < 0 && text_decimal("01", 2, 9, &v) < 0 && text_decimal("", 0, 9, &v) < 0);
	CHECK("decimal: 0 is a number", text_decimal("0", 1, 9, &v) == 0 && v == 0);
	CHECK("hex4: either case", text_hex4("aBcD", &v) == 0 && v == 0xabcd);
	CHECK("hex4: not hex", text_hex4("12g4", &v) < 0 && text_hex4("12", &v) < 0);
	CHECK("vmId rule", vmid_valid("a-Z9", 4) && !vmid_valid("a_b", 3) && !vmid_valid("a b", 3));
	char path[32];
	CHECK_STR("root path: trailing slashes", (root_path("/r//", "/etc", path, sizeof path), path), "/r/etc");
	CHECK_STR("root path: the host", (root_path("/", "/etc", path, sizeof path), path), "/etc");
	CHECK("root path: too long", root_path("/0123456789012345678901234567890", "/x", path, sizeof path) < 0);
	char huge[4000];
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	error_set(&err, "%s: the reason", huge);
	size_t len = strlen(err.message);
	CHECK("error: an overlong message keeps its end", len <= 1011 && strcmp(err.message + len - 12, ": the reason") == 0 &&
	      strstr(err.message, "...") != NULL);
	/* a path beyond any formatting buffer, and a reason of 700 bytes: the path loses its middle */
	static char path_20k[20001], reason[701];
	memset(path_20k, '/', sizeof path_20k - 1);
	memcpy(path_20k + sizeof path_20k - 7, "/x.xml", 6);
	for (size_t i = 0; i < sizeof reason - 1; i++)
		reason[i] = i % 10 == 9 ? ' ' : 'r';
	reason[sizeof reason - 2] = '.';
	error_set(&err, "%s (from _hook_domxml): %s", path_20k, reason);
	len = strlen(err.message);
	const char *kept = strstr(err.message, "/x.xml (from _hook_domxml): ");
	CHECK("error: a 20,000-byte path shortened in its middle, the reason whole", len <= 1011 &&
	      strncmp(err.message, "//", 2) == 0 && strstr(err.message, "...") != NULL && kept &&
	      strcmp(kept + 28, reason) == 0);
	error_set(&err, "%s and %s: %s", path_20k, path_20k, "No such file or directory");
	len = strlen(err.message);
	CHECK("error: two long paths both shortened, the reason whole", len <= 1011 &&
	      strcmp(err.message + len - 27, ": No such file or directory") == 0 &&
	      strstr(err.message, "/x.xml and /") != NULL);
}

/* The files in dir other than keep; the first in *other. */
static int others_in(const char *dir, const char *keep)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | grep -v -x '%s' | wc -l) = 0", dir, keep);
	return system(cmd) == 0;
}

static int file_is(const char *path, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return strcmp(buf, text) == 0;
}

static void test_replacement(void)
{
	char dir[256], path[300], stale[320];
	struct replacement r;
	if (!CHECK("replacement: a temporary directory", temp_dir(dir, sizeof dir, "unit_replace")))
		return;
	snprintf(path, sizeof path, "%s/file", dir);
	snprintf(stale, sizeof stale, "%s.update", path);
	FILE *f = fopen(path, "w");
	CHECK("replacement: the file made", f && fputs("old", f) >= 0 && fclose(f) == 0);
	f = fopen(stale, "w");
	CHECK("replacement: a killed run's temporary file", f && fputs("killed", f) >= 0 && fclose(f) == 0);
	/* unnamed (O_TMPFILE) the name is gone; named, it is a new, empty file */
	struct stat st;
	CHECK("replacement: begins, removing what a killed run left",
	      replacement_begin(&r, path, ".update", &err) == 0 &&
	      (r.named ? stat(stale, &st) == 0 && st.st_size == 0 : access(stale, F_OK) < 0));
	CHECK("replacement: abandoned, the file is untouched and nothing is left",
	      write_all(r.fd, "new", 3) == 0 && (replacement_abandon(&r), file_is(path, "old")) && others_in(dir, "file"));
	CHECK("replacement: committed durably", replacement_begin(&r, path, ".update", &err) == 0 &&
	      write_all(r.fd, "new", 3) == 0 && replacement_commit(&r, true, &err) == 0 && file_is(path, "new") &&
	      others_in(dir, "file"));
	CHECK("replacement: a directory that does not exist", replacement_begin(&r, "/nonexistent/x", ".u", &err) < 0 &&
	      strstr(err.message, "/nonexistent/x: cannot create a temporary file beside it") != NULL);
	/* a name without a directory (_hook_domxml=vm.xml): beside it in "." */
	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("replacement: a name without a directory, committed durably",
	      cwd >= 0 && chdir(dir) == 0 && replacement_begin(&r, "file", ".update", &err) == 0 &&
	      write_all(r.fd, "newer", 5) == 0 && replacement_commit(&r, true, &err) == 0 && file_is("file", "newer") &&
	      others_in(".", "file"));
	if (cwd >= 0 && (fchdir(cwd) < 0 || close(cwd) < 0))
		CHECK("replacement: back in the working directory", false);
	unlink(path);
	CHECK("replacement: temporary directory removed", rmdir(dir) == 0);
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


/* ---- the journal streamed from its file ---- */

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

/*
 * What is read can be written back and read again, and what is written can
 * be read: one limit for the file and for the file written back one record a
 * line, which run-together records make larger.
 */
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
	test_text();
	test_replacement();
	test_journal_large();
	test_journal_stream();
	test_property();
	test_journal();
	test_owner_db();
	test_vmid();
	test_hook_point();
	test_options();
	test_hostdev_text();
	return check_status();
}
