/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a run is asked to do; see request.h. */
#include "request.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format.h"
#include "host.h"

#define MAX_DB_BYTES (16u << 20)
#define LOCK_WAIT_MAX (UINT_MAX - 1)   /* seconds */

/* ---- the property and vmId ---- */

/*
 * What a syntax error says was expected where it was found.  The position
 * named is the first character at which the value stops being the beginning
 * of a valid one (one past its end when it is cut short).
 */
static const char expected_entry[] = "expected 0xVVVV:0xPPPP, 0xVVVV:0xPPPP#SERIAL, 0xVVVV:0xPPPP@PORT or @PORT";
static const char expected_id[] = "expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each";
static const char expected_after_id[] = "expected #SERIAL, @PORT, or & before the next entry";
static const char expected_serial[] = "expected a serial number of 1 to 64 characters [A-Za-z0-9._:-]";
static const char expected_port[] =
	"expected a port BUS-PORT[.PORT]... (bus 1 to 999, 1 to 7 ports of 1 to 31, no leading zeros)";

#define ENTRY_OK ((size_t)-1)
#define ID_LENGTH 13

static bool hex_digit(char c)
{
	return c && strchr("0123456789abcdefABCDEF", c);
}

/* How many bytes of s[0, len) begin an id (ID_LENGTH: a whole one, then in *id). */
static size_t scan_id(const char *s, size_t len, struct usb_id *id)
{
	static const char shape[] = "0x....:0x...."; /* '.': a hex digit */
	for (size_t i = 0; i < ID_LENGTH; i++)
		if (i == len || (shape[i] == '.' ? !hex_digit(s[i]) : s[i] != shape[i]))
			return i;
	text_hex4(s + 2, &id->vendor);
	text_hex4(s + 9, &id->product);
	return ID_LENGTH;
}

/* The serial number from s[start] to len: ENTRY_OK, or where it goes wrong. */
static size_t parse_serial(const char *s, size_t len, size_t start, struct selector *sel, const char **expected)
{
	size_t n = 0;
	while (start + n < len && n < SERIAL_MAX && serial_char(s[start + n]))
		n++;
	if (n == 0 || start + n < len) {
		*expected = expected_serial;
		return start + n;
	}
	memcpy(sel->serial, s + start, n);
	sel->serial[n] = '\0';
	sel->kind = SELECT_SERIAL;
	return ENTRY_OK;
}

/* The port path from s[start] to len: ENTRY_OK, or where it goes wrong. */
static size_t parse_port(const char *s, size_t len, size_t start, struct selector *sel, const char **expected)
{
	bool whole;
	size_t n = usb_port_scan(s + start, len - start, &sel->port, &whole);
	if (start + n < len || !whole) {
		*expected = expected_port;
		return start + n;
	}
	sel->kind = SELECT_PORT;
	return ENTRY_OK;
}

/* One entry, s[0, len): ENTRY_OK with *sel filled, or the offset of a syntax error and what was expected there. */
static size_t parse_entry(const char *s, size_t len, struct selector *sel, const char **expected)
{
	size_t i = 0;
	*sel = (struct selector){ .kind = SELECT_ID };
	if (len > 0 && s[0] == '?') {
		sel->optional = true;
		i++;
	}
	if (i < len && s[i] == '@')
		return parse_port(s, len, i + 1, sel, expected);
	size_t n = scan_id(s + i, len - i, &sel->id);
	if (n < ID_LENGTH) {
		*expected = n == 0 ? expected_entry : expected_id;
		return i + n;
	}
	sel->has_id = true;
	i += n;
	if (i == len)
		return ENTRY_OK;
	if (s[i] == '#')
		return parse_serial(s, len, i + 1, sel, expected);
	if (s[i] == '@')
		return parse_port(s, len, i + 1, sel, expected);
	*expected = expected_after_id;
	return i;
}

/* "hostusb property, entry 2 "...": expected ...; found "X" at character 16" */
static void syntax_error(struct error *err, size_t number, const char *entry, size_t len, size_t at,
			 size_t position, const char *expected)
{
	char shown[48], found[24];
	const char *here = entry + at; /* entry[len] is '&' or the value's NUL */
	unsigned char c = (unsigned char)*here;
	quote_untrusted(entry, len, shown, sizeof shown);
	if (c == '\0')
		format(found, sizeof found, "the end of the value");
	else if (c >= 0x20 && c < 0x7f)
		format(found, sizeof found, "\"%.*s\"", 1, here);
	else
		format(found, sizeof found, "byte 0x%02x", c);
	error_set(err, "hostusb property, entry %zu \"%s\": %s; found %s at character %zu", number, shown, expected,
		  found, position);
}

int parse_property(const char *text, struct request *req, struct error *err)
{
	size_t entries = 1;
	for (const char *p = text; *p; p++)
		entries += *p == '&';
	if (entries > MAX_ENTRIES) {
		error_set(err, "hostusb property has %zu entries; at most %d are allowed", entries, MAX_ENTRIES);
		return -1;
	}
	const char *entry = text;
	for (size_t i = 0; i < entries; i++) {
		const char *amp = strchr(entry, '&'), *expected = NULL;
		size_t len = amp ? (size_t)(amp - entry) : strlen(entry);
		size_t at = parse_entry(entry, len, &req->entries[i], &expected);
		if (at != ENTRY_OK) {
			syntax_error(err, i + 1, entry, len, at, (size_t)(entry - text) + at + 1, expected);
			return -1;
		}
		entry += len + 1;
	}
	req->count = entries;
	return 0;
}

void selector_text(const struct selector *s, char *buf, size_t size)
{
	char id[16] = "", where[SERIAL_MAX + 2] = "";
	if (s->has_id)
		format(id, sizeof id, "0x%04x:0x%04x", s->id.vendor, s->id.product);
	if (s->kind == SELECT_SERIAL)
		format(where, sizeof where, "#%s", s->serial);
	else if (s->kind == SELECT_PORT) {
		where[0] = '@';
		usb_port_format(&s->port, where + 1, sizeof where - 1);
	}
	format(buf, size, "%s%s%s", s->optional ? "?" : "", id, where);
}

size_t request_ids(const struct request *req, struct usb_id *ids)
{
	size_t n = 0;
	for (size_t i = 0; i < req->count; i++)
		if (req->entries[i].has_id)
			ids[n++] = req->entries[i].id;
	return n;
}

int check_vmid(const char *vmid, struct error *err)
{
	size_t len = strlen(vmid);
	if (vmid_valid(vmid, len))
		return 0;
	char shown[48];
	quote_untrusted(vmid, len, shown, sizeof shown);
	error_set(err, "vmId \"%s\": not a UUID-like token", shown);
	return -1;
}

/* ---- the owner, without NSS ---- */

int lookup_db(const char *db, const char *name, size_t name_len, unsigned *id)
{
	for (const char *line = db; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *f1 = memchr(line, ':', len);
		if (f1 && (size_t)(f1 - line) == name_len && memcmp(line, name, name_len) == 0) {
			const char *f2 = memchr(f1 + 1, ':', len - (size_t)(f1 + 1 - line));
			const char *f3 = f2 ? memchr(f2 + 1, ':', len - (size_t)(f2 + 1 - line)) : NULL;
			size_t id_len = f3 ? (size_t)(f3 - f2 - 1) : f2 ? len - (size_t)(f2 + 1 - line) : 0;
			return f2 && text_decimal(f2 + 1, id_len, OWNER_MAX, id) == 0 ? 0 : -1;
		}
		line += len + (end != NULL);
	}
	return -1;
}

static int resolve_name(const char *root, const char *name, size_t len, const char *db_path, unsigned *id,
			struct error *err)
{
	if (text_decimal(name, len, OWNER_MAX, id) == 0)
		return 0;
	if (len == 0) {
		error_set(err, "--owner: empty name");
		return -1;
	}
	char path[PATH_SIZE], shown[48], *db;
	size_t db_len;
	if (path_under_root(root, db_path, path, sizeof path, err) < 0)
		return -1;
	if (read_small_file(path, MAX_DB_BYTES, &db, &db_len, false, err) != 0)
		return -1;
	int found = lookup_db(db, name, len, id);
	free(db);
	if (found < 0) {
		quote_untrusted(name, len, shown, sizeof shown);
		error_set(err, "%s: no valid entry for \"%s\"", path, shown);
	}
	return found;
}

int resolve_owner(const char *root, const char *spec, unsigned *uid, unsigned *gid, struct error *err)
{
	const char *colon = strchr(spec, ':');
	if (!colon) {
		error_set(err, "--owner %s: expected USER:GROUP", spec);
		return -1;
	}
	if (resolve_name(root, spec, (size_t)(colon - spec), "/etc/passwd", uid, err) < 0)
		return -1;
	return resolve_name(root, colon + 1, strlen(colon + 1), "/etc/group", gid, err);
}

/* ---- the command line ---- */

/* The hook points hostusb serves: every name the program knows them by comes from here. */
static const struct {
	const char *name;
	enum command command;
} hook_points[] = {
	{ "before_vm_start", CMD_BEFORE_VM_START },
	{ "after_vm_destroy", CMD_AFTER_VM_DESTROY },
	{ "before_vm_migrate_source", CMD_BEFORE_VM_MIGRATE_SOURCE },
	{ "before_vm_dehibernate", CMD_BEFORE_VM_DEHIBERNATE },
};
#define HOOK_POINTS (sizeof hook_points / sizeof hook_points[0])

static enum command hook_point_named(const char *name, size_t len)
{
	for (size_t i = 0; i < HOOK_POINTS; i++)
		if (strlen(hook_points[i].name) == len && memcmp(hook_points[i].name, name, len) == 0)
			return hook_points[i].command;
	return CMD_NONE;
}

static bool is_hook_point(enum command command)
{
	for (size_t i = 0; i < HOOK_POINTS; i++)
		if (hook_points[i].command == command)
			return true;
	return false;
}

void hook_point_names(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < HOOK_POINTS && used < size; i++) {
		int n = format(buf + used, size - used, "%s%s", i ? ", " : "", hook_points[i].name);
		used += n > 0 ? (size_t)n : 0;
	}
}

/*
 * The name of argv0's directory as given, before anything is resolved
 * ("before_vm_start" of ".../before_vm_start/50_hostusb", "." of
 * "./50_hostusb"): *name and its length; 0 without a directory part.
 */
static size_t given_directory_name(const char *argv0, const char **name)
{
	const char *end = strrchr(argv0, '/');
	if (!end)
		return 0;
	while (end > argv0 && end[-1] == '/')
		end--;
	const char *begin = end;
	while (begin > argv0 && begin[-1] != '/')
		begin--;
	*name = begin;
	return (size_t)(end - begin);
}

/*
 * The directory dir[0, dir_len), followed by "/" and up, is its parent's
 * entry "name": the same file as .../up../name, as the kernel resolves ".",
 * ".." and symlinks.
 */
static bool dir_is_named(const char *dir, int dir_len, const char *up, const char *name)
{
	char path[PATH_SIZE];
	struct stat at_dir, at_name;
	int n = format(path, sizeof path, "%.*s/%s../%s", dir_len, dir, up, name);
	if (n < 0 || (size_t)n >= sizeof path || stat(path, &at_name) < 0)
		return false;
	format(path, sizeof path, "%.*s/%s", dir_len, dir, up);   /* shorter: fits */
	return stat(path, &at_dir) == 0 && at_dir.st_dev == at_name.st_dev && at_dir.st_ino == at_name.st_ino;
}

int command_of_program(const char *argv0, bool hook_domxml_set, enum command *command, struct error *err)
{
	const char *slash = strrchr(argv0, '/'), *name = argv0;
	int dir_len = slash ? (int)(slash - argv0) : 0;
	char names[HOOK_POINT_NAMES_SIZE];
	size_t name_len = given_directory_name(argv0, &name);
	*command = hook_point_named(name, name_len);
	for (size_t i = 0; slash && *command == CMD_NONE && i < HOOK_POINTS; i++)
		if (dir_is_named(argv0, dir_len, "", hook_points[i].name))
			*command = hook_points[i].command;
	if (*command != CMD_NONE)
		return 0;
	*command = CMD_LIST;
	hook_point_names(names, sizeof names);
	if (slash && dir_is_named(argv0, dir_len, "../", "hooks")) {
		error_set(err, "%s: its directory is not a hook point hostusb serves (%s); install it in one of those, "
			  "or give the hook point or list as an argument; see hostusb --help", argv0, names);
		return -1;
	}
	if (hook_domxml_set) {
		error_set(err, "%s: run as a hook (_hook_domxml is set), but no hook point hostusb serves (%s) names "
			  "its directory; install it in one of those, or give the hook point as an argument; see "
			  "hostusb --help", argv0, names);
		return -1;
	}
	return 0;
}

static enum command command_named(const char *word)
{
	if (strcmp(word, "release") == 0)
		return CMD_RELEASE;
	return strcmp(word, "list") == 0 ? CMD_LIST : hook_point_named(word, strlen(word));
}

/* What parse_options keeps between arguments. */
struct parse_state {
	const char *lock_wait;      /* --lock-wait's text, checked at the end */
	const char *hook_option;    /* an option only a hook point uses, if given */
	const char *list_option;    /* an option only list uses, if given */
	bool owner_given;           /* --owner */
};

/* The options that take a value, and what each needs. */
static const struct {
	const char *name, *needs;
} valued_options[] = {
	{ "--root", "a directory" },
	{ "--owner", "USER:GROUP" },
	{ "--lock-wait", "a number of seconds" },
};

/*
 * valued_options[k] at argv[*i], as "--name VALUE" or "--name=VALUE".  1:
 * *value set, *i past what it took; 0: not this option; -1: its value is
 * missing.
 */
static int option_value(int argc, char **argv, int *i, size_t k, const char **value, struct error *err)
{
	const char *arg = argv[*i], *name = valued_options[k].name;
	size_t len = strlen(name);
	if (strncmp(arg, name, len) != 0 || (arg[len] != '=' && arg[len] != '\0'))
		return 0;
	if (arg[len] == '=') {
		*value = arg + len + 1;
		return 1;
	}
	if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
		*value = argv[++*i];
		return 1;
	}
	error_set(err, "%s needs %s; see hostusb --help", name, valued_options[k].needs);
	return -1;
}

static int set_command(struct options *opt, enum command command, const char *word, struct error *err)
{
	if (command == CMD_NONE) {
		char names[HOOK_POINT_NAMES_SIZE];
		hook_point_names(names, sizeof names);
		error_set(err, "unknown command \"%s\": expected %s, list or release; see hostusb --help", word, names);
		return -1;
	}
	if (opt->command != CMD_NONE) {
		error_set(err, "unexpected argument \"%s\": give one command; see hostusb --help", word);
		return -1;
	}
	opt->command = command;
	return 0;
}

/* The option or command at argv[*i] (and its value). */
static int parse_argument(int argc, char **argv, int *i, struct options *opt, struct parse_state *ps,
			  struct error *err)
{
	const char *arg = argv[*i], *value = NULL;
	for (size_t k = 0; k < sizeof valued_options / sizeof valued_options[0]; k++) {
		int taken = option_value(argc, argv, i, k, &value, err);
		if (taken < 0)
			return -1;
		if (taken == 0)
			continue;
		if (k == 0)
			opt->root = value;
		else if (k == 1)
			opt->owner = value;
		else
			ps->lock_wait = value;
		ps->hook_option = k > 0 ? valued_options[k].name : ps->hook_option;
		ps->owner_given |= k == 1;
		return 0;
	}
	if (strcmp(arg, "--dry-run") == 0) {
		opt->dry_run = true;
		ps->hook_option = arg;
		return 0;
	}
	if (strcmp(arg, "--property") == 0) {
		opt->list_property = true;
		ps->list_option = arg;
		return 0;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		return set_command(opt, CMD_HELP, arg, err);
	if (strcmp(arg, "--version") == 0)
		return set_command(opt, CMD_VERSION, arg, err);
	if (arg[0] != '-' && opt->command == CMD_RELEASE) {
		if (opt->release_vmid) {
			error_set(err, "unexpected argument \"%s\": release gives back one VM's devices at a time", arg);
			return -1;
		}
		opt->release_vmid = arg;
		return 0;
	}
	if (arg[0] != '-')
		return set_command(opt, command_named(arg), arg, err);
	error_set(err, "unknown option \"%s\"; see hostusb --help", arg);
	return -1;
}

/* release VMID: the vmId is there, and only --root and --lock-wait go with it. */
static int check_release_options(const struct options *opt, const struct parse_state *ps, struct error *err)
{
	const char *wrong = ps->list_option ? ps->list_option : opt->dry_run ? "--dry-run"
			  : ps->owner_given ? "--owner" : NULL;
	if (wrong) {
		error_set(err, "%s is not for release; see hostusb --help", wrong);
		return -1;
	}
	if (!opt->release_vmid) {
		error_set(err, "release needs the vmId of the VM whose devices to give back: hostusb release VMID");
		return -1;
	}
	return check_vmid(opt->release_vmid, err);
}

/*
 * --owner, --dry-run and --lock-wait mean nothing to list, nor --property to
 * a hook point: a mistake to point out.
 */
static int check_hook_option(const struct options *opt, const struct parse_state *ps, struct error *err)
{
	char names[HOOK_POINT_NAMES_SIZE];
	if (is_hook_point(opt->command) && ps->list_option) {
		error_set(err, "%s is for list, not for a hook point; see hostusb --help", ps->list_option);
		return -1;
	}
	if (opt->command == CMD_RELEASE)
		return check_release_options(opt, ps, err);
	if (opt->command != CMD_LIST || !ps->hook_option)
		return 0;
	hook_point_names(names, sizeof names);
	error_set(err, "%s is for a hook point (%s), not for list: name the hook point, or run the program from its "
		  "hooks/ directory; see hostusb --help", ps->hook_option, names);
	return -1;
}

int parse_options(int argc, char **argv, bool hook_domxml_set, struct options *opt, struct error *err)
{
	*opt = (struct options){ .root = "", .owner = DEFAULT_OWNER, .lock_wait = DEFAULT_LOCK_WAIT };
	struct parse_state ps = { NULL, NULL, NULL, false };
	for (int i = 1; i < argc; i++)
		if (parse_argument(argc, argv, &i, opt, &ps, err) < 0)
			return -1;
	const char *lock_wait = ps.lock_wait;
	if (lock_wait && text_decimal(lock_wait, strlen(lock_wait), LOCK_WAIT_MAX, &opt->lock_wait) < 0) {
		error_set(err, "--lock-wait \"%s\": expected a number of seconds", lock_wait);
		return -1;
	}
	if (opt->command == CMD_NONE &&
	    command_of_program(argc > 0 ? argv[0] : "", hook_domxml_set, &opt->command, err) < 0)
		return -1;
	return check_hook_option(opt, &ps, err);
}
