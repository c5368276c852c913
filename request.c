/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a run is asked to do; see request.h. */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format.h"

#define PATH_SIZE    4096
#define MAX_DB_BYTES (16u << 20)
/* (uid_t)-1 means "unchanged" to chown: never an owner */
#define MAX_ID       0xfffffffeu

/* ---- the property and vmId ---- */

/*
 * One entry of the property.  Returns NULL, or what an entry must look like
 * for the message that names the bad one.
 */
static const char *parse_entry(const char *s, size_t len, struct usb_id *id)
{
	static const char expected[] = "expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each";
	if (len != 13 || s[0] != '0' || s[1] != 'x' || s[6] != ':' || s[7] != '0' || s[8] != 'x')
		return expected;
	if (text_hex4(s + 2, &id->vendor) < 0 || text_hex4(s + 9, &id->product) < 0)
		return expected;
	return NULL;
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
		const char *amp = strchr(entry, '&');
		size_t len = amp ? (size_t)(amp - entry) : strlen(entry);
		req->entries[i] = (struct selector){ .kind = SELECT_ID, .has_id = true };
		const char *expected = parse_entry(entry, len, &req->entries[i].id);
		if (expected) {
			char shown[48];
			quote_untrusted(entry, len, shown, sizeof shown);
			error_set(err, "hostusb property, entry %zu \"%s\": %s; entries are separated by &", i + 1,
				  shown, expected);
			return -1;
		}
		entry += len + 1;
	}
	req->count = entries;
	return 0;
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
			return f2 && text_decimal(f2 + 1, id_len, MAX_ID, id) == 0 ? 0 : -1;
		}
		line += len + (end != NULL);
	}
	return -1;
}

static int resolve_name(const char *root, const char *name, size_t len, const char *db_path, unsigned *id,
			struct error *err)
{
	if (text_decimal(name, len, MAX_ID, id) == 0)
		return 0;
	if (len == 0) {
		error_set(err, "--owner: empty name");
		return -1;
	}
	char path[PATH_SIZE], shown[48], *db;
	size_t db_len;
	if (root_path(root, db_path, path, sizeof path) < 0) {
		error_set(err, "%s%s: path too long", root, db_path);
		return -1;
	}
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

/* ---- the hostdev element ---- */

void hostdev_text(struct usb_id id, const struct usb_addr *addr, char *buf, size_t size)
{
	char address[64] = "";
	if (addr)
		format(address, sizeof address, "\n    <address bus='%u' device='%u'/>", addr->bus, addr->device);
	format(buf, size,
	       "<hostdev mode='subsystem' type='usb'>\n"
	       "  <source>\n"
	       "    <vendor id='0x%04x'/>\n"
	       "    <product id='0x%04x'/>%s\n"
	       "  </source>\n"
	       "</hostdev>",
	       id.vendor, id.product, address);
}

/* ---- the command line ---- */

static const struct {
	const char *name;
	enum command command;
} hook_points[] = {
	{ "before_vm_start", CMD_BEFORE_VM_START },
	{ "after_vm_destroy", CMD_AFTER_VM_DESTROY },
	{ "before_vm_migrate_source", CMD_BEFORE_VM_MIGRATE_SOURCE },
};

static enum command hook_point_named(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof hook_points / sizeof hook_points[0]; i++)
		if (strlen(hook_points[i].name) == len && memcmp(hook_points[i].name, name, len) == 0)
			return hook_points[i].command;
	return CMD_NONE;
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

int command_of_program(const char *argv0, enum command *command, struct error *err)
{
	const char *slash = strrchr(argv0, '/');
	int dir_len = slash ? (int)(slash - argv0) : 0;
	*command = CMD_LIST;
	for (size_t i = 0; slash && i < sizeof hook_points / sizeof hook_points[0]; i++)
		if (dir_is_named(argv0, dir_len, "", hook_points[i].name)) {
			*command = hook_points[i].command;
			return 0;
		}
	if (slash && dir_is_named(argv0, dir_len, "../", "hooks")) {
		error_set(err, "%s: its directory is not a hook point hostusb serves (" HOOK_POINT_NAMES "); install "
			  "it in one of those, or give the hook point or list as an argument; see hostusb --help",
			  argv0);
		return -1;
	}
	return 0;
}

static enum command command_named(const char *word)
{
	return strcmp(word, "list") == 0 ? CMD_LIST : hook_point_named(word, strlen(word));
}

/* What parse_options keeps between arguments. */
struct parse_state {
	const char *lock_wait;      /* --lock-wait's text, checked at the end */
	const char *hook_option;    /* an option only a hook point uses, if given */
	const char *list_option;    /* an option only list uses, if given */
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
		error_set(err, "unknown command \"%s\": expected " HOOK_POINT_NAMES " or list; see hostusb --help",
			  word);
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
	if (arg[0] != '-')
		return set_command(opt, command_named(arg), arg, err);
	error_set(err, "unknown option \"%s\"; see hostusb --help", arg);
	return -1;
}

/*
 * --owner, --dry-run and --lock-wait mean nothing to list, nor --property to
 * a hook point: a mistake to point out.
 */
static int check_hook_option(const struct options *opt, const struct parse_state *ps, struct error *err)
{
	bool hook = opt->command == CMD_BEFORE_VM_START || opt->command == CMD_AFTER_VM_DESTROY ||
		    opt->command == CMD_BEFORE_VM_MIGRATE_SOURCE;
	if (hook && ps->list_option) {
		error_set(err, "%s is for list, not for a hook point; see hostusb --help", ps->list_option);
		return -1;
	}
	if (opt->command != CMD_LIST || !ps->hook_option)
		return 0;
	error_set(err, "%s is for a hook point (" HOOK_POINT_NAMES "), not for list: name the hook point, or run "
		  "the program from its hooks/ directory; see hostusb --help", ps->hook_option);
	return -1;
}

int parse_options(int argc, char **argv, struct options *opt, struct error *err)
{
	*opt = (struct options){ .root = "", .owner = DEFAULT_OWNER, .lock_wait = DEFAULT_LOCK_WAIT };
	struct parse_state ps = { NULL, NULL, NULL };
	for (int i = 1; i < argc; i++)
		if (parse_argument(argc, argv, &i, opt, &ps, err) < 0)
			return -1;
	const char *lock_wait = ps.lock_wait;
	if (lock_wait && text_decimal(lock_wait, strlen(lock_wait), MAX_ID, &opt->lock_wait) < 0) {
		error_set(err, "--lock-wait \"%s\": expected a number of seconds", lock_wait);
		return -1;
	}
	if (opt->command == CMD_NONE && command_of_program(argc > 0 ? argv[0] : "", &opt->command, err) < 0)
		return -1;
	return check_hook_option(opt, &ps, err);
}
