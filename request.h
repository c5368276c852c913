/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_REQUEST_H
#define HOSTUSB_REQUEST_H
/*
 * What a run is asked to do, read from text: the command line and the hook
 * point the program's directory names, the hostusb custom property, vmId, the
 * new owner (USER:GROUP, through passwd and group without NSS).  Nothing
 * here touches a device or the journal.
 */
#include <stdbool.h>
#include <stddef.h>

#include "text.h"
#include "usb.h"

#define MAX_ENTRIES       32
#define DEFAULT_OWNER     "qemu:qemu"
#define DEFAULT_LOCK_WAIT 30

enum command {
	CMD_NONE,
	CMD_BEFORE_VM_START,
	CMD_AFTER_VM_DESTROY,
	CMD_BEFORE_VM_MIGRATE_SOURCE,
	CMD_BEFORE_VM_DEHIBERNATE,
	CMD_LIST,
	CMD_RELEASE,
	CMD_HELP,
	CMD_VERSION,
};

struct options {
	const char *root;        /* prefix of every host path, "" for the host */
	const char *owner;       /* USER:GROUP the devices are given to */
	bool dry_run;
	bool list_property;      /* list --property: only the values that select each device */
	unsigned lock_wait;      /* seconds to wait for the journal lock */
	const char *release_vmid; /* release VMID: the VM whose recorded devices are given back */
	enum command command;
};

/*
 * The command line; without a command, the one command_of_program gives
 * (hook_domxml_set: _hook_domxml is in the environment).  0, or -1 with err set.
 */
int parse_options(int argc, char **argv, bool hook_domxml_set, struct options *opt, struct error *err);
/*
 * The command when none is named, from the directory part of argv[0]: the
 * hook point its directory is named after, first as given, before any
 * symbolic link is resolved (VDSM runs .../hooks/before_vm_start/50_hostusb,
 * whatever before_vm_start links to), then as the kernel resolves it
 * ("./50_hostusb" there).  A program elsewhere runs list.  So that a hook
 * never silently does nothing, no hook point found is an error naming them
 * when _hook_domxml is set (hook_domxml_set) or the directory is in a
 * "hooks" directory.
 */
int command_of_program(const char *argv0, bool hook_domxml_set, enum command *command, struct error *err);
/* The names of the hook points hostusb serves, "before_vm_start, after_vm_destroy, ..." */
#define HOOK_POINT_NAMES_SIZE 160
void hook_point_names(char *buf, size_t size);

/*
 * The hostusb property: entries separated by '&', at most MAX_ENTRIES, each
 *
 *   0xVVVV:0xPPPP              any free device with this id
 *   0xVVVV:0xPPPP#SERIAL       the device with this id and serial number
 *   0xVVVV:0xPPPP@B-P[.P]...   the device on this port, which must have this id
 *   @B-P[.P]...                whatever device (not a hub) is on this port
 *
 * and any of them behind '?': optional, started without when it cannot be had.
 * A hub is never given, whatever names it (plan.h).
 */

enum selector_kind {
	SELECT_ID,      /* any free device of id */
	SELECT_SERIAL,  /* the device of id whose serial is serial */
	SELECT_PORT,    /* the device on port; of id when has_id */
};

struct selector {
	enum selector_kind kind;
	bool has_id;               /* false only for a port without an id */
	struct usb_id id;
	char serial[SERIAL_MAX + 1];
	struct usb_port port;
	bool optional;
};

struct request {
	size_t count;                         /* first: a short request touches one page of it */
	struct selector entries[MAX_ENTRIES];
};
/*
 * The property into *req: 0, or -1 with err naming the entry, what was
 * expected and at which character of the value (1-based).
 */
int parse_property(const char *text, struct request *req, struct error *err);
/* An entry as the property writes it, ids in lowercase: "?0x0529:0x0001#A1B2", "@1-3.1". */
#define SELECTOR_TEXT_SIZE 96
void selector_text(const struct selector *s, char *buf, size_t size);
/* The ids the entries of req name, into ids (MAX_ENTRIES); how many. */
size_t request_ids(const struct request *req, struct usb_id *ids);
/* vmId, which the journal records: 0, or -1 with err set. */
int check_vmid(const char *vmid, struct error *err);

/* The third field of the line whose first field is name, in passwd or group text: 0, or -1. */
int lookup_db(const char *db, const char *name, size_t name_len, unsigned *id);
/* USER:GROUP, each a number or a name in <root>/etc/passwd and /etc/group. */
int resolve_owner(const char *root, const char *spec, unsigned *uid, unsigned *gid, struct error *err);

#endif
