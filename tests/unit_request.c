/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of what a run is asked (request.h): the hostusb property's
 * grammar (parse_property, selector_text: every form of entry, the limits of
 * each part, where a syntax error is said to be), the owner's lookup in
 * passwd and group, vmId, the hook point from the program's directory and the
 * options.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "request.h"
#include "check.h"

static struct error err;
static struct request req;

/* The property parses into count entries. */
static int parses(const char *text, size_t count)
{
	memset(&req, 0xa5, sizeof req);
	return parse_property(text, &req, &err) == 0 && req.count == count;
}

static int refused(const char *text)
{
	err.message[0] = '\0';
	return parse_property(text, &req, &err) < 0 && err.message[0] != '\0' && !strchr(err.message, '\n');
}

static bool port_is(const struct usb_port *port, unsigned bus, unsigned depth, const char *ports)
{
	if (port->bus != bus || port->depth != depth)
		return false;
	for (unsigned i = 0; i < depth; i++)
		if (port->ports[i] != (unsigned char)ports[i])
			return false;
	return true;
}

static void test_forms(void)
{
	const struct selector *e = req.entries;
	CHECK("form: id", parses("0x0529:0x0001", 1) && e[0].kind == SELECT_ID && e[0].has_id && !e[0].optional &&
	      e[0].id.vendor == 0x0529 && e[0].id.product == 0x0001);
	CHECK("form: id, hex of either case", parses("0xBEEF:0xcAfE", 1) && e[0].id.vendor == 0xbeef &&
	      e[0].id.product == 0xcafe);
	CHECK("form: serial", parses("0x0529:0x0001#A1B2", 1) && e[0].kind == SELECT_SERIAL && e[0].has_id &&
	      e[0].id.vendor == 0x0529 && strcmp(e[0].serial, "A1B2") == 0 && !e[0].optional);
	CHECK("form: serial of every allowed character",
	      parses("0x0529:0x0001#azAZ09._:-", 1) && strcmp(e[0].serial, "azAZ09._:-") == 0);
	CHECK("form: id and port", parses("0x0529:0x0001@1-3.1", 1) && e[0].kind == SELECT_PORT && e[0].has_id &&
	      e[0].id.product == 0x0001 && port_is(&e[0].port, 1, 2, "\3\1"));
	CHECK("form: port alone", parses("@2-4", 1) && e[0].kind == SELECT_PORT && !e[0].has_id &&
	      e[0].id.vendor == 0 && e[0].id.product == 0 && port_is(&e[0].port, 2, 1, "\4"));
	CHECK("form: optional id", parses("?0x0529:0x0001", 1) && e[0].kind == SELECT_ID && e[0].optional);
	CHECK("form: optional serial", parses("?0x0529:0x0001#K", 1) && e[0].kind == SELECT_SERIAL && e[0].optional &&
	      strcmp(e[0].serial, "K") == 0);
	CHECK("form: optional id and port", parses("?0x0529:0x0001@3-1", 1) && e[0].kind == SELECT_PORT &&
	      e[0].optional && e[0].has_id);
	CHECK("form: optional port", parses("?@3-1", 1) && e[0].kind == SELECT_PORT && e[0].optional && !e[0].has_id);
	CHECK("form: all of them in one value",
	      parses("0x0781:0x5567&0x0529:0x0001#A1B2&?0x0529:0x0001@1-3.1&@2-1&?0x0627:0x0001", 5) &&
	      e[0].kind == SELECT_ID && e[1].kind == SELECT_SERIAL && e[2].kind == SELECT_PORT && e[2].optional &&
	      e[3].kind == SELECT_PORT && !e[3].has_id && e[4].optional && e[4].kind == SELECT_ID);
	CHECK("form: fields a form does not use are empty", parses("0x0529:0x0001#A1B2&@2-1", 2) &&
	      e[0].port.bus == 0 && e[0].port.depth == 0 && e[1].serial[0] == '\0' && e[0].serial[4] == '\0');
}

/* text, with piece repeated n times in place of "%": into buf */
static const char *repeat(char *buf, size_t size, const char *text, const char *piece, size_t n)
{
	const char *mark = strchr(text, '%');
	size_t at = (size_t)(mark - text), used = 0;
	memcpy(buf, text, at);
	used = at;
	for (size_t i = 0; i < n && used + strlen(piece) < size; i++, used += strlen(piece))
		memcpy(buf + used, piece, strlen(piece));
	snprintf(buf + used, size - used, "%s", mark + 1);
	return buf;
}

static void test_limits(void)
{
	char buf[4096];
	const char *serial64 = repeat(buf, sizeof buf, "0x0529:0x0001#%", "Ab3.", 16);
	CHECK("limit: a serial of 64 characters", parses(serial64, 1) && strlen(req.entries[0].serial) == 64);
	CHECK("limit: a serial of 65 refused", refused(repeat(buf, sizeof buf, "0x0529:0x0001#%x", "Ab3.", 16)));
	CHECK("limit: an empty serial refused", refused("0x0529:0x0001#"));
	CHECK("limit: 7 port levels", parses("@1-1.2.3.4.5.6.7", 1) && req.entries[0].port.depth == 7);
	CHECK("limit: 8 port levels refused", refused("@1-1.2.3.4.5.6.7.8"));
	CHECK("limit: bus 999", parses("@999-1", 1) && req.entries[0].port.bus == 999);
	CHECK("limit: bus 1", parses("@1-1", 1) && req.entries[0].port.bus == 1);
	CHECK("limit: bus 1000 refused", refused("@1000-1"));
	CHECK("limit: bus 0 refused", refused("@0-1"));
	CHECK("limit: bus with a leading zero refused", refused("@01-1"));
	CHECK("limit: port 31", parses("@1-31.31", 1) && req.entries[0].port.ports[1] == 31);
	CHECK("limit: port 32 refused", refused("@1-32"));
	CHECK("limit: port 32 below a hub refused", refused("0x0529:0x0001@1-2.32"));
	CHECK("limit: port 0 refused", refused("@1-0"));
	CHECK("limit: port with a leading zero refused", refused("@1-2.03"));
	repeat(buf, sizeof buf, "%", "0x0529:0x0001#A1B2&?@1-1.2.3.4.5.6.7&0x0529:0x0001@999-31&?0x0627:0x0001&", 8);
	buf[strlen(buf) - 1] = '\0';
	CHECK("limit: 32 entries of every form", parses(buf, 32) && req.entries[31].optional &&
	      req.entries[30].kind == SELECT_PORT && req.entries[29].port.depth == 7);
	CHECK("limit: 32 entries", parses(repeat(buf, sizeof buf, "%@1-1", "?0x0529:0x0001#S&", 31), 32));
	CHECK("limit: 33 entries refused, said so",
	      refused(repeat(buf, sizeof buf, "%@1-1", "?0x0529:0x0001#S&", 32)) &&
	      strcmp(err.message, "hostusb property has 33 entries; at most 32 are allowed") == 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "?", "??0x0529:0x0001", "?&0x0529:0x0001", "0x0529:0x0001&?", "0x0529:0x0001?", "?@", "@",
		"#A", "0x0529:0x0001#", "0x0529:0x0001#A#B", "0x0529:0x0001#A@1-1", "0x0529:0x0001@1-1#A",
		"0x0529:0x0001@1-1@1-1", "0x0529:0x0001#A B", "0x0529:0x0001#A/B", "0x0529:0x0001#A,B",
		"0x0529:0x0001@1", "0x0529:0x0001@1-", "0x0529:0x0001@1-3.", "0x0529:0x0001@-1", "0x0529:0x0001@1.3",
		"0x0529:0x0001@usb1", "0x0529:0x0001@1-3:1.0", "0X0529:0x0001#A", "0x0529:0X0001@1-1", "@1-1&",
		"0x0529:0x0001 ", "0x0529:0x0001@1-1 ", "0x0529:0x0001#A\n", "0x052:0x0001#A", "?0x0529",
		"0x0529:0x0001&&@1-1", "@1-1:0x0529:0x0001", "0x0529:0x0001@1-3.1.", "0x0529:0x0001@1_3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "refused: case %zu (%.*s)", i, (int)strcspn(bad[i], "\n"), bad[i]);
		CHECK(name, refused(bad[i]));
	}
}

#define ID_FORM "expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each"
#define ENTRY_FORMS "expected 0xVVVV:0xPPPP, 0xVVVV:0xPPPP#SERIAL, 0xVVVV:0xPPPP@PORT or @PORT"
#define SERIAL_CHARS "expected a serial number of 1 to 64 characters [A-Za-z0-9._:-]"
#define PORT_FORM "expected a port BUS-PORT[.PORT]... (bus 1 to 999, 1 to 7 ports of 1 to 31, no leading zeros)"

static void test_positions(void)
{
	static const struct {
		const char *name, *value, *message;
	} cases[] = {
		{ "position: an empty serial, at the end", "0x0781:0x5567&0x0529:0x0001#",
		  "entry 2 \"0x0529:0x0001#\": " SERIAL_CHARS "; found the end of the value at character 29" },
		{ "position: an empty serial, before the next entry", "0x0529:0x0001#&@1-1",
		  "entry 1 \"0x0529:0x0001#\": " SERIAL_CHARS "; found \"&\" at character 15" },
		{ "position: a serial with a bad character", "?0x0529:0x0001#AB/C",
		  "entry 1 \"?0x0529:0x0001#AB/C\": " SERIAL_CHARS "; found \"/\" at character 18" },
		{ "position: an uppercase X", "0x0781:0x5567&0X0627:0x0001",
		  "entry 2 \"0X0627:0x0001\": " ID_FORM "; found \"X\" at character 16" },
		{ "position: a short id", "0x0781:0x556&0x0627:0x0001",
		  "entry 1 \"0x0781:0x556\": " ID_FORM "; found \"&\" at character 13" },
		{ "position: a comma between entries", "0x0781:0x5567,0x0627:0x0001",
		  "entry 1 \"0x0781:0x5567,0x0627:0x0001\": expected #SERIAL, @PORT, or & before the next entry; "
		  "found \",\" at character 14" },
		{ "position: an empty entry", "@1-1&&@1-2", "entry 2 \"\": " ENTRY_FORMS "; found \"&\" at character 6" },
		{ "position: ??", "??0x0529:0x0001",
		  "entry 1 \"??0x0529:0x0001\": " ENTRY_FORMS "; found \"?\" at character 2" },
		{ "position: ?&", "@1-1&?&@1-2", "entry 2 \"?\": " ENTRY_FORMS "; found \"&\" at character 7" },
		{ "position: port 32", "@1-3&0x0529:0x0001@1-32",
		  "entry 2 \"0x0529:0x0001@1-32\": " PORT_FORM "; found \"2\" at character 23" },
		{ "position: bus 1000", "@1000-1", "entry 1 \"@1000-1\": " PORT_FORM "; found \"0\" at character 5" },
		{ "position: bus 0", "@0-1", "entry 1 \"@0-1\": " PORT_FORM "; found \"0\" at character 2" },
		{ "position: an 8th level", "@1-1.2.3.4.5.6.7.8",
		  "entry 1 \"@1-1.2.3.4.5.6.7.8\": " PORT_FORM "; found \".\" at character 17" },
		{ "position: a port cut short", "?@1-3.",
		  "entry 1 \"?@1-3.\": " PORT_FORM "; found the end of the value at character 7" },
		{ "position: a control byte, never echoed", "0x0529:0x0001#A\033[2J",
		  "entry 1 \"0x0529:0x0001#A?[2J\": " SERIAL_CHARS "; found byte 0x1b at character 16" },
		{ "position: a byte above 0x7f", "\xc3\xa9",
		  "entry 1 \"??\": " ENTRY_FORMS "; found byte 0xc3 at character 1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err.message[0] = '\0';
		parse_property(cases[i].value, &req, &err);
		char want[512];
		snprintf(want, sizeof want, "hostusb property, %s", cases[i].message);
		CHECK_STR(cases[i].name, err.message, want);
	}
	char long_serial[128];
	memset(long_serial, 'Z', sizeof long_serial);
	memcpy(long_serial, "@1-1&0x0529:0x0001#", 19);
	long_serial[19 + 65] = '\0';
	err.message[0] = '\0';
	parse_property(long_serial, &req, &err);
	CHECK("position: the 65th character of a serial", strstr(err.message, "found \"Z\" at character 84") &&
	      strstr(err.message, "entry 2 \"0x0529:0x0001#ZZZZ"));
}

static void round_trip(const char *name, const char *text, const char *want)
{
	char buf[SELECTOR_TEXT_SIZE] = "";
	if (parses(text, 1))
		selector_text(&req.entries[0], buf, sizeof buf);
	CHECK_STR(name, buf, want);
}

static void test_selector_text(void)
{
	round_trip("selector text: id", "0x0529:0x0001", "0x0529:0x0001");
	round_trip("selector text: ids in lowercase", "?0xBEEF:0xCAFE", "?0xbeef:0xcafe");
	round_trip("selector text: serial", "?0x0529:0x0001#A1B2", "?0x0529:0x0001#A1B2");
	round_trip("selector text: id and port", "0x0529:0x0001@1-3.1", "0x0529:0x0001@1-3.1");
	round_trip("selector text: port", "@999-31.1.2.3.4.5.6", "@999-31.1.2.3.4.5.6");
	char longest[128];
	memset(longest, '-', sizeof longest);
	memcpy(longest, "?0x0529:0x0001#", 15);
	longest[15 + SERIAL_MAX] = '\0';
	round_trip("selector text: the longest fits SELECTOR_TEXT_SIZE", longest, longest);
}

static void test_property(void)
{
	CHECK("property: one entry", parses("0x1234:0xbeef", 1));
	CHECK("property: two entries", parses("0x1234:0xbeef&0x2222:0xABAA", 2));
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
	CHECK("property: the maximum number of entries is accepted", parses(many, MAX_ENTRIES));
	strcat(many, "&0x1234:0xbeef");
	CHECK("property: one entry more is refused", parse_property(many, &req, &err) < 0);
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
		"hooks/before_vm_dehibernate",
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
	if (!CHECK("hook point: a temporary directory", temp_dir(top, sizeof top, "unit_request")))
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
	CHECK("hook point: dehibernate", program_command(top, "hooks/before_vm_dehibernate/50_hostusb", &c) == 0 &&
	      c == CMD_BEFORE_VM_DEHIBERNATE);
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
		 "hostusb serves (before_vm_start, after_vm_destroy, before_vm_migrate_source, before_vm_dehibernate) "
		 "names its directory; "
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
	const char *a17[] = { "hostusb", "--root", "/r", "--lock-wait", "3", "release", "6C2E-ab" };
	CHECK("options: release VMID, with --root and --lock-wait", options_of(&opt, 7, a17) == 0 &&
	      opt.command == CMD_RELEASE && strcmp(opt.release_vmid, "6C2E-ab") == 0 && opt.lock_wait == 3);
	const char *a18[] = { "hostusb", "release" };
	CHECK("options: release without a vmId", options_of(&opt, 2, a18) < 0 && strstr(err.message, "VMID"));
	const char *a19[] = { "hostusb", "release", "a/b" };
	CHECK("options: release of a vmId that is not one", options_of(&opt, 3, a19) < 0);
	const char *a20[] = { "hostusb", "release", "a", "b" };
	CHECK("options: release of two vmIds", options_of(&opt, 4, a20) < 0);
	const char *a21[] = { "hostusb", "release", "a", "--owner", "1:2" };
	CHECK("options: release --owner", options_of(&opt, 5, a21) < 0 && strstr(err.message, "--owner"));
	const char *a22[] = { "hostusb", "release", "a", "--property" };
	CHECK("options: release --property", options_of(&opt, 4, a22) < 0 && strstr(err.message, "--property"));
	const char *a23[] = { "hostusb", "list", "release" };
	CHECK("options: list and release", options_of(&opt, 3, a23) < 0);
	const char *a24[] = { "/nowhere/hostusb", "--root", "/y" };
	CHECK("options: no command, no hook point, run as a hook: refused",
	      parse_options(3, (char **)a24, true, &opt, &err) < 0);
	const char *a25[] = { "/nowhere/hostusb", "list" };
	CHECK("options: list named, run as a hook: list", parse_options(2, (char **)a25, true, &opt, &err) == 0 &&
	      opt.command == CMD_LIST);
	const char *a26[] = { "/nowhere/before_vm_migrate_source/x" };
	CHECK("options: no command, a hook point's directory as given",
	      parse_options(1, (char **)a26, true, &opt, &err) == 0 && opt.command == CMD_BEFORE_VM_MIGRATE_SOURCE);
	const char *a27[] = { "hostusb", "--lock-wait", "3", "before_vm_dehibernate" };
	CHECK("options: before_vm_dehibernate named", options_of(&opt, 4, a27) == 0 &&
	      opt.command == CMD_BEFORE_VM_DEHIBERNATE && opt.lock_wait == 3);
	const char *a28[] = { "hostusb", "--property", "before_vm_dehibernate" };
	CHECK("options: --property with before_vm_dehibernate", options_of(&opt, 3, a28) < 0 &&
	      strstr(err.message, "--property is for list"));
}


int main(void)
{
	test_forms();
	test_limits();
	test_refused();
	test_positions();
	test_selector_text();
	test_property();
	test_owner_db();
	test_vmid();
	test_hook_point();
	test_options();
	return check_status();
}
