/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for xmlpatch.c.  Golden cases are tests/xml/NAME.in.xml and
 * NAME.out.xml (run from the source tree's root).  Every case runs twice:
 * from a regular file, and through a pipe fed one byte at a time, so that
 * every token straddles a read boundary somewhere.
 *
 * ./tests/unit_xmlpatch --write-golden rewrites the .out.xml files from the
 * current code (review the diff before committing it).
 */
#include "xmlpatch.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char frag_usb[] =
	"<hostdev mode='subsystem' type='usb'>\n"
	"  <source>\n"
	"    <vendor id='0x1234'/>\n"
	"    <product id='0xbeef'/>\n"
	"  </source>\n"
	"</hostdev>";
static const char frag_addr[] =
	"<hostdev mode='subsystem' type='usb'>\n"
	"  <source>\n"
	"    <vendor id='0x0627'/>\n"
	"    <product id='0x0001'/>\n"
	"    <address bus='1' device='3'/>\n"
	"  </source>\n"
	"</hostdev>\n";
static const char *const one_usb[] = { frag_usb };
static const char *const one_addr[] = { frag_addr };
static const char *const two_usb[] = { frag_usb, frag_addr };

static bool write_golden;

/* Reads through read(2), each call cut to the next length of a cycle that
 * lands around the patcher's window boundaries; counts its calls. */
static unsigned short_reads;

static ssize_t short_read(int fd, void *buf, size_t count)
{
	static const size_t lengths[] = { 1, 7, 511, 512, 513, 4096, 2 };
	size_t limit = lengths[short_reads++ % (sizeof lengths / sizeof lengths[0])];
	return read(fd, buf, count < limit ? count : limit);
}

struct run {
	int rc;
	char *out;
	size_t out_len;
	struct xmlpatch_result result;
	struct xmlpatch_error err;
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/unit_xmlpatch.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	return fd;
}

static void write_all(int fd, const char *s, size_t n, size_t step)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n < step ? n : step);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				return;
			die("write");
		}
		s += w;
		n -= (size_t)w;
	}
}

static char *read_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		die("malloc");
	for (;;) {
		if (n == cap && !(buf = realloc(buf, (cap *= 2) + 1)))
			die("realloc");
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A pipe whose other end a child process fills, step bytes per write. */
static int feeder(const char *s, size_t n, size_t step, pid_t *child)
{
	int fds[2];
	if (pipe(fds) < 0)
		die("pipe");
	*child = fork();
	if (*child < 0)
		die("fork");
	if (*child == 0) {
		close(fds[0]);
		write_all(fds[1], s, n, step);
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

/* Runs the patcher on in[0, n) from a file read with reader (NULL: read(2)). */
static void patch_read(const char *in, size_t n, const char *const *frags, size_t nfrags,
		       ssize_t (*reader)(int, void *, size_t), struct run *r)
{
	int in_fd = temp_file();
	write_all(in_fd, in, n, n ? n : 1);
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		die("lseek");
	int out_fd = temp_file();
	memset(r, 0, sizeof *r);
	const struct xmlpatch_input input = { .fd = in_fd, .read = reader };
	r->rc = xmlpatch_stream(&input, out_fd, frags, nfrags, &r->result, &r->err);
	close(in_fd);
	if (lseek(out_fd, 0, SEEK_SET) < 0)
		die("lseek");
	r->out = read_fd(out_fd, &r->out_len);
	close(out_fd);
}

/* Runs the patcher on in[0, n); trickle: through a pipe, one byte per write. */
static void patch(const char *in, size_t n, const char *const *frags, size_t nfrags, bool trickle,
		  struct run *r)
{
	pid_t child = -1;
	int in_fd;
	if (trickle) {
		in_fd = feeder(in, n, 1, &child);
	} else {
		in_fd = temp_file();
		write_all(in_fd, in, n, n ? n : 1);
		if (lseek(in_fd, 0, SEEK_SET) < 0)
			die("lseek");
	}
	int out_fd = temp_file();
	memset(r, 0, sizeof *r);
	r->rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = in_fd }, out_fd, frags, nfrags, &r->result, &r->err);
	close(in_fd);
	if (child > 0 && waitpid(child, NULL, 0) < 0)
		die("waitpid");
	if (lseek(out_fd, 0, SEEK_SET) < 0)
		die("lseek");
	r->out = read_fd(out_fd, &r->out_len);
	close(out_fd);
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	char *s = read_fd(fd, len);
	close(fd);
	return s;
}

/* The output with the insertion taken out (or "/>" put back) equals the input. */
static bool invariant_holds(const struct run *r, const char *in, size_t n)
{
	unsigned long long off = r->result.insert_offset, len = r->result.insert_length;
	if (off + len > r->out_len)
		return false;
	const char *put_back = r->result.mode == XMLPATCH_EXPANDED ? "/>" : "";
	size_t back = strlen(put_back), tail = r->out_len - (size_t)(off + len);
	if (r->result.mode == XMLPATCH_EXPANDED &&
	    (len < 11 || memcmp(r->out + off, ">", 1) != 0 ||
	     memcmp(r->out + off + len - 10, "</devices>", 10) != 0))
		return false;
	return off + back + tail == n && memcmp(r->out, in, (size_t)off) == 0 &&
	       memcmp(in + off, put_back, back) == 0 &&
	       memcmp(r->out + off + len, in + off + back, tail) == 0;
}

static bool same_run(const struct run *a, const struct run *b)
{
	return a->rc == 0 && b->rc == 0 && a->out_len == b->out_len && memcmp(a->out, b->out, a->out_len) == 0 &&
	       a->result.mode == b->result.mode && a->result.insert_offset == b->result.insert_offset &&
	       a->result.insert_length == b->result.insert_length;
}

struct golden {
	const char *file, *name;
	const char *const *frags;
	size_t nfrags;
	enum xmlpatch_mode mode;
};

static void check_golden(const struct golden *g)
{
	char path[256], label[256];
	size_t in_len, want_len;
	snprintf(path, sizeof path, "tests/xml/%s.in.xml", g->file);
	char *in = read_file(path, &in_len);
	if (!in) {
		CHECK(g->name, in != NULL);
		return;
	}
	snprintf(path, sizeof path, "tests/xml/%s.out.xml", g->file);
	struct run r;
	patch(in, in_len, g->frags, g->nfrags, false, &r);
	if (write_golden && r.rc == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(path);
		write_all(fd, r.out, r.out_len, r.out_len ? r.out_len : 1);
		close(fd);
	}
	char *want = read_file(path, &want_len);
	bool ok = r.rc == 0 && want && want_len == r.out_len && memcmp(want, r.out, want_len) == 0;
	if (!ok && r.rc != 0)
		fprintf(stdout, "  %s: %s\n", g->file, r.err.message);
	CHECK(g->name, ok);
	snprintf(label, sizeof label, "%s: mode", g->name);
	CHECK(label, r.rc == 0 && r.result.mode == g->mode);
	snprintf(label, sizeof label, "%s: output minus insertion is the input", g->name);
	CHECK(label, r.rc == 0 && invariant_holds(&r, in, in_len));

	struct run t;
	patch(in, in_len, g->frags, g->nfrags, true, &t);
	snprintf(label, sizeof label, "%s: same through 1-byte reads", g->name);
	CHECK(label, same_run(&t, &r));
	free(t.out);
	short_reads = 0;
	patch_read(in, in_len, g->frags, g->nfrags, short_read, &t);
	snprintf(label, sizeof label, "%s: same through a read function of short counts", g->name);
	CHECK(label, same_run(&t, &r) && short_reads > 1);
	free(t.out);
	free(r.out);
	free(want);
	free(in);
}

static const struct golden goldens[] = {
	{ "comment", "xmlpatch comment holding <devices>", one_usb, 1, XMLPATCH_INSERTED },
	{ "cdata", "xmlpatch CDATA holding </devices>", one_usb, 1, XMLPATCH_INSERTED },
	{ "pi", "xmlpatch processing instructions", one_usb, 1, XMLPATCH_INSERTED },
	{ "doctype", "xmlpatch DOCTYPE internal subset holding </devices> and >", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "attr-gt", "xmlpatch attribute values holding > and />, both quotes", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "ovirt-vm-devices", "xmlpatch ovirt-vm:devices in metadata is not <devices>", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "metadata-devices", "xmlpatch <devices> inside metadata, only the first child one used",
	  one_usb, 1, XMLPATCH_INSERTED },
	{ "self-closing", "xmlpatch <devices/> expanded", one_usb, 1, XMLPATCH_EXPANDED },
	{ "self-closing-space", "xmlpatch <devices /> with attribute expanded", one_usb, 1,
	  XMLPATCH_EXPANDED },
	{ "no-devices", "xmlpatch no <devices>: created before </domain>", one_usb, 1,
	  XMLPATCH_CREATED },
	{ "crlf", "xmlpatch CRLF document keeps CRLF", one_usb, 1, XMLPATCH_INSERTED },
	{ "tabs", "xmlpatch tab-indented document indents with tabs", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "bom-decl", "xmlpatch BOM and XML declaration preserved", one_usb, 1, XMLPATCH_INSERTED },
	{ "entities", "xmlpatch entities and non-ASCII text preserved", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "one-line", "xmlpatch one-line document, compact insertion", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "one-line-self-closing", "xmlpatch one-line <devices/>, compact", one_usb, 1,
	  XMLPATCH_EXPANDED },
	{ "one-line-no-devices", "xmlpatch one-line document without <devices>, compact", one_usb, 1,
	  XMLPATCH_CREATED },
	{ "empty-devices", "xmlpatch <devices></devices>, compact", one_usb, 1, XMLPATCH_INSERTED },
	{ "empty-devices-newline", "xmlpatch <devices> with only a newline inside", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "end-tag-on-child-line", "xmlpatch </devices> right after the last child", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "ovirt-hosted-engine", "xmlpatch oVirt hosted-engine style domain", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "ovirt-el8", "xmlpatch oVirt el8 style domain with declaration", one_addr, 1,
	  XMLPATCH_INSERTED },
	{ "ovirt-mixed-indent", "xmlpatch oVirt domain with mixed indentation", one_usb, 1,
	  XMLPATCH_INSERTED },
	{ "two-fragments", "xmlpatch two fragments, one with an address", two_usb, 2,
	  XMLPATCH_INSERTED },
};

/* ---- errors ---- */

static void check_error_run(const char *name, const char *in, size_t n, const char *want,
			    bool trickle)
{
	struct run r;
	patch(in, n, one_usb, 1, trickle, &r);
	char label[256];
	snprintf(label, sizeof label, "%s%s", name, trickle ? " (1-byte reads)" : "");
	CHECK_STR(label, r.rc == -1 ? r.err.message : "(no error)", want);
	free(r.out);
}

static void check_error(const char *name, const char *in, const char *want)
{
	check_error_run(name, in, strlen(in), want, false);
	check_error_run(name, in, strlen(in), want, true);
}

static void check_errors(void)
{
	check_error("xmlpatch error: mismatched tag",
		    "<domain>\n  <devices>\n    <disk></disc>\n  </devices>\n</domain>\n",
		    "line 3:11: mismatched end tag, expected </disk>");
	check_error("xmlpatch error: unclosed root", "<domain>\n  <devices/>\n",
		    "line 3:1: unexpected end of the document: <domain> is not closed");
	check_error("xmlpatch error: root not domain", "<?xml version='1.0'?>\n<vm>\n</vm>\n",
		    "line 2:1: root element is <vm>, not <domain>");
	check_error("xmlpatch error: prefixed root", "<lv:domain xmlns:lv='x'/>",
		    "line 1:1: root element is <lv:domain>, not <domain>");
	check_error("xmlpatch error: second root", "<domain><devices/></domain>\n<domain/>\n",
		    "line 2:1: second root element <domain>");
	check_error("xmlpatch error: EOF in comment", "<domain>\n<!-- devices",
		    "line 2:13: unexpected end of the document in a comment");
	check_error("xmlpatch error: EOF in CDATA", "<domain><a><![CDATA[x]]",
		    "line 1:24: unexpected end of the document in a CDATA section");
	check_error("xmlpatch error: EOF in attribute value", "<domain type='kvm>\n",
		    "line 2:1: unexpected end of the document in an attribute value");
	check_error("xmlpatch error: EOF in DOCTYPE", "<!DOCTYPE domain [ <!ENTITY a '>'>",
		    "line 1:35: unexpected end of the document in the DOCTYPE");
	check_error("xmlpatch error: EOF in PI", "<domain><?pi ?",
		    "line 1:15: unexpected end of the document in a processing instruction");
	check_error("xmlpatch error: EOF in tag", "<domain><devices",
		    "line 1:17: unexpected end of the document in a tag");
	check_error("xmlpatch error: EOF in end tag", "<domain><devices/></dom",
		    "line 1:24: unexpected end of the document in a tag");
	check_error("xmlpatch error: text after root", "<domain><devices/></domain>\nx\n",
		    "line 2:1: text outside the root element");
	check_error("xmlpatch error: text before root", "hello <domain/>",
		    "line 1:1: text outside the root element");
	check_error_run("xmlpatch error: UTF-16LE BOM", "\xFF\xFE<\0d\0", 6,
			"line 1:1: document is not UTF-8 (UTF-16 or UTF-32?)", false);
	check_error_run("xmlpatch error: UTF-16BE BOM", "\xFE\xFF\0<\0d", 6,
			"line 1:1: document is not UTF-8 (UTF-16 or UTF-32?)", true);
	check_error_run("xmlpatch error: UTF-16 without BOM", "<\0d\0", 4,
			"line 1:2: document is not UTF-8 (UTF-16 or UTF-32?)", false);
	check_error("xmlpatch error: encoding ISO-8859-1",
		    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<domain/>",
		    "line 1:1: document is not UTF-8 (encoding=\"ISO-8859-1\")");
	check_error("xmlpatch error: encoding after BOM",
		    "\xEF\xBB\xBF<?xml version='1.0' encoding = 'latin1' ?><domain/>",
		    "line 1:4: document is not UTF-8 (encoding=\"latin1\")");
	check_error("xmlpatch error: invalid UTF-8", "<domain>\n  <name>caf\xC3(</name>",
		    "line 2:13: invalid UTF-8 (byte 0x28)");
	check_error("xmlpatch error: overlong UTF-8", "<domain>\xC0\xAF</domain>",
		    "line 1:9: invalid UTF-8 (byte 0xC0)");
	check_error("xmlpatch error: UTF-8 surrogate", "<domain>\xED\xA0\x80</domain>",
		    "line 1:10: invalid UTF-8 (byte 0xA0)");
	check_error("xmlpatch error: truncated UTF-8 at the end", "<domain><a>\xE2\x82",
		    "line 1:14: invalid UTF-8 (truncated at the end of the document)");
	check_error("xmlpatch error: control character", "<domain>\x01</domain>",
		    "line 1:9: control character 0x01 is not allowed in XML");
	check_error("xmlpatch error: bad &", "<domain>\n  <name>a & b</name>",
		    "line 2:11: '&' must start a reference such as &amp; or &#38;");
	check_error("xmlpatch error: bad & in attribute", "<domain a='&#xZ;'/>",
		    "line 1:12: '&' must start a reference such as &amp; or &#38;");
	check_error("xmlpatch error: unterminated reference", "<domain a='&amp b'/>",
		    "line 1:12: '&' must start a reference such as &amp; or &#38;");
	check_error("xmlpatch error: character reference out of range", "<domain>&#x110000;</domain>",
		    "line 1:9: character reference beyond U+10FFFF");
	check_error("xmlpatch error: < in attribute value", "<domain>\n<a b='<'/>",
		    "line 2:7: '<' in attribute value");
	check_error("xmlpatch error: unquoted attribute", "<domain type=kvm>",
		    "line 1:14: attribute value must be quoted");
	check_error("xmlpatch error: attribute without value", "<domain type>",
		    "line 1:13: expected '=' after attribute name");
	check_error("xmlpatch error: attributes not separated", "<domain a='1'b='2'>",
		    "line 1:14: expected whitespace, '>' or \"/>\" after attribute value");
	check_error("xmlpatch error: bad name start", "<domain><1a/></domain>",
		    "line 1:10: invalid character after '<'");
	check_error("xmlpatch error: -- in comment", "<domain><!-- a -- b --></domain>",
		    "line 1:18: \"--\" is not allowed inside a comment");
	check_error("xmlpatch error: declaration not at start", "\n<?xml version='1.0'?><domain/>",
		    "line 2:1: XML declaration not at the start of the document");
	check_error("xmlpatch error: DOCTYPE after root", "<domain><!DOCTYPE x></domain>",
		    "line 1:11: DOCTYPE is only allowed once, before the root element");
	check_error("xmlpatch error: CDATA outside root", "<![CDATA[x]]><domain/>",
		    "line 1:3: CDATA section outside the root element");
	check_error("xmlpatch error: end tag outside root", "</domain>",
		    "line 1:1: end tag outside the root element");
	check_error("xmlpatch error: empty document", "", "line 1:1: no root element");
	check_error("xmlpatch error: only whitespace and a comment", "\n<!-- x -->\n",
		    "line 3:1: no root element");
	check_error("xmlpatch error: empty <domain/>", "<domain/>\n",
		    "line 2:1: the <domain> element is empty");
}

/* Documents libxml2 refuses, each refused here too, with its position. */
static void check_well_formedness(void)
{
	check_error("xmlpatch error: duplicate attribute", "<domain type='kvm' type='qemu'>",
		    "line 1:20: duplicate attribute type");
	check_error("xmlpatch error: duplicate xmlns", "<domain xmlns:a='u' xmlns:a='v'>",
		    "line 1:21: duplicate attribute xmlns:a");
	check_error("xmlpatch error: undefined entity", "<domain>\n  <name>&nosuch;</name>",
		    "line 2:9: undefined entity &nosuch;");
	check_error("xmlpatch error: undefined entity in attribute", "<domain a='&eacute;'>",
		    "line 1:12: undefined entity &eacute;");
	check_error("xmlpatch error: character reference to U+1", "<domain>&#1;</domain>",
		    "line 1:9: character reference to U+0001, which XML does not allow");
	check_error("xmlpatch error: character reference to a surrogate", "<domain a='&#xD800;'>",
		    "line 1:12: character reference to U+D800, which XML does not allow");
	check_error("xmlpatch error: character reference to U+FFFE", "<domain>&#xFFFE;</domain>",
		    "line 1:9: character reference to U+FFFE, which XML does not allow");
	check_error("xmlpatch error: character reference to U+0", "<domain>&#0;</domain>",
		    "line 1:9: character reference to U+0000, which XML does not allow");
	check_error("xmlpatch error: literal U+FFFE", "<domain>\n ab\xEF\xBF\xBE" "</domain>",
		    "line 2:4: character U+FFFE is not allowed in XML");
	check_error("xmlpatch error: literal U+FFFF", "<domain a='\xEF\xBF\xBF'>",
		    "line 1:12: character U+FFFF is not allowed in XML");
	check_error("xmlpatch error: ]]> in text", "<domain>\n  a]]]>b</domain>",
		    "line 2:5: \"]]>\" is not allowed in text");
	check_error("xmlpatch error: <?xml?>", "<?xml?><domain/>", "line 1:1: XML declaration without a version");
	check_error("xmlpatch error: <?xml garbage?>", "<?xml garbage?><domain/>",
		    "line 1:1: XML declaration without a version");
	check_error("xmlpatch error: standalone='maybe'", "<?xml version='1.0' standalone='maybe'?><domain/>",
		    "line 1:1: XML declaration: standalone must be \"yes\" or \"no\"");
	check_error("xmlpatch error: version 2.0", "<?xml version=\"2.0\"?><domain/>",
		    "line 1:1: XML declaration: version must be \"1.x\"");
	check_error("xmlpatch error: text after the declaration's attributes",
		    "<?xml version='1.0' encoding='UTF-8' x?><domain/>",
		    "line 1:1: XML declaration: unexpected text after its attributes");
	check_error("xmlpatch error: <?XML", "<?XML version='1.0'?><domain/>",
		    "line 1:1: processing instruction target XML is reserved");
	check_error("xmlpatch error: stray > in the internal subset", "<!DOCTYPE domain [\n  >\n]>\n<domain/>",
		    "line 2:3: invalid character in the DOCTYPE's internal subset");
	check_error("xmlpatch error: U+00D7 in a name", "<domain>\n<a\xC3\x97" "b/>",
		    "line 2:3: invalid character in element name");
	check_error("xmlpatch error: U+00A0 in a name", "<domain a\xC2\xA0" "b='1'>",
		    "line 1:10: expected '=' after attribute name");
	check_error("xmlpatch error: name starting with a combining mark", "<domain><\xCC\x80" "a/>",
		    "line 1:10: invalid character after '<'");
	check_error("xmlpatch error: a:b:- is no qualified name", "<domain a:b:-='1'>",
		    "line 1:9: attribute name a:b:- is not a valid qualified name");
	check_error("xmlpatch error: PI target followed by ?", "<domain><?pi?x?>",
		    "line 1:14: expected whitespace after the processing instruction target");
	check_error("xmlpatch error: entity holding < in an attribute",
		    "<!DOCTYPE domain [<!ENTITY e \"&#60;\">]><domain a='&e;'>",
		    "line 1:51: entity &e; holds '<', not allowed in an attribute value");
	check_error("xmlpatch error: entity holding ]]> in text", "<!DOCTYPE domain [<!ENTITY e ']]>'>]><domain>&e;",
		    "line 1:46: entity &e; holds \"]]>\", not allowed in text");
	check_error("xmlpatch error: % in an entity value", "<!DOCTYPE domain [<!ENTITY e '%x;'>]><domain/>",
		    "line 1:31: '%' in an entity's value");
	/* a known difference: libxml2 2.9 reads "[...]>" after the DOCTYPE's '>' as its internal subset */
	check_error("xmlpatch error: internal subset after the DOCTYPE's >",
		    "<!DOCTYPE domain>[<!ENTITY e \"v\">]><domain>&e;<devices/></domain>",
		    "line 1:18: text outside the root element");
}

/* Well formed, refused for a documented limit: the kind says so. */
static void check_limit(const char *name, const char *in, const char *want)
{
	struct run r;
	patch(in, strlen(in), one_usb, 1, false, &r);
	CHECK_STR(name, r.rc == -1 ? r.err.message : "(no error)", want);
	char label[256];
	snprintf(label, sizeof label, "%s: refused as a limit", name);
	CHECK(label, r.rc == -1 && r.err.kind == XMLPATCH_LIMIT);
	free(r.out);
}

static void check_limits(void)
{
	check_limit("xmlpatch limit: <!ELEMENT", "<!DOCTYPE domain [<!ELEMENT domain ANY>]><domain/>",
		    "line 1:19: <!ELEMENT declarations in the DOCTYPE (not supported)");
	check_limit("xmlpatch limit: parameter entity", "<!DOCTYPE domain [<!ENTITY % p 'x'>]><domain/>",
		    "line 1:28: parameter entities in the DOCTYPE (not supported)");
	check_limit("xmlpatch limit: external entity", "<!DOCTYPE domain [<!ENTITY e SYSTEM 'x'>]><domain/>",
		    "line 1:30: external entities (not supported)");
	check_limit("xmlpatch limit: entity holding markup", "<!DOCTYPE domain [<!ENTITY e '<a/>'>]><domain>&e;",
		    "line 1:47: entity &e; holds markup (not supported)");
	check_limit("xmlpatch limit: entity referring to another", "<!DOCTYPE domain [<!ENTITY e '&amp;'>]><domain>&e;",
		    "line 1:48: entity &e; refers to other entities (not supported)");
	check_limit("xmlpatch limit: entity of an external DTD", "<!DOCTYPE domain SYSTEM 'd.dtd'><domain>&x;",
		    "line 1:41: entity &x; is not declared in the internal subset (the external DTD is not read)");
	check_limit("xmlpatch limit: encoding", "<?xml version='1.0' encoding='latin1'?><domain/>",
		    "line 1:1: document is not UTF-8 (encoding=\"latin1\")");
	/* <domain a0000='' a0001='' ...>: 64 attributes are taken, the 65th is refused */
	for (int count = 64; count <= 65; count++) {
		char doc[1024], want[64];
		int len = snprintf(doc, sizeof doc, "<domain");
		for (int i = 0; i < count; i++)
			len += snprintf(doc + len, sizeof doc - (size_t)len, " a%04d=''", i);
		snprintf(doc + len, sizeof doc - (size_t)len, "><devices/></domain>");
		snprintf(want, sizeof want, count == 64 ? "(accepted)" : "line 1:%d: more than 64 attributes in one tag",
			 8 + 64 * 9 + 1);
		struct run r;
		patch(doc, strlen(doc), one_usb, 1, false, &r);
		CHECK_STR(count == 64 ? "xmlpatch 64 attributes in one tag" : "xmlpatch limit: 65 attributes in one tag",
			  r.rc ? r.err.message : "(accepted)", want);
		free(r.out);
	}
}

/* ---- each limit exactly: accepted at it, refused one past it ---- */

/* A document being built: text appended, at most LIMIT_DOC bytes. */
enum { LIMIT_DOC = 64 * 1024 };
struct doc {
	char s[LIMIT_DOC];
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void put(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->s + d->n, sizeof d->s - d->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof d->s - d->n)
		die("a limit document too long");
	d->n += (size_t)n;
}

static void put_start(struct doc *d, const char *name) { put(d, "<%s>", name); }
static void put_end(struct doc *d, const char *name) { put(d, "</%s>", name); }
static void put_attribute(struct doc *d, const char *name) { put(d, " %s='1'", name); }
static void put_entity(struct doc *d, const char *name) { put(d, "<!ENTITY %s 'v'>", name); }

/*
 * Names of total bytes in all (at least 8), each at most 256 and at least 8:
 * "p000xxx...", "p001xxx...", each written by each.
 */
static void put_names(struct doc *d, size_t total, void (*each)(struct doc *, const char *), char prefix)
{
	for (unsigned i = 0; total > 0; i++) {
		size_t len = total <= 256 ? total : total - 256 < 8 ? total - 8 : 256;
		char name[257];
		snprintf(name, sizeof name, "%c%03u", prefix, i);
		memset(name + 4, 'x', len - 4);
		name[len] = '\0';
		each(d, name);
		total -= len;
	}
}

/* Open elements whose names are total bytes with <domain>'s, then closed. */
static void open_names(struct doc *d, size_t total)
{
	static struct doc ends;
	ends.n = 0;
	put(d, "<domain><devices/>");
	put_names(d, total - 6, put_start, 'e');
	put_names(&ends, total - 6, put_end, 'e');
	for (size_t i = ends.n; i-- > 0;)   /* the end tags, in reverse order */
		if (ends.s[i] == '<')
			put(d, "%.*s", (int)strcspn(ends.s + i, ">") + 1, ends.s + i);
	put(d, "</domain>");
}

static void build(struct doc *d, const char *what, size_t count)
{
	d->n = 0;
	if (strcmp(what, "depth") == 0) {
		put(d, "<domain><devices/>");
		for (size_t i = 1; i < count; i++)
			put(d, "<a>");
		for (size_t i = 1; i < count; i++)
			put(d, "</a>");
		put(d, "</domain>");
	} else if (strcmp(what, "name") == 0) {
		put(d, "<domain><devices/><n%0*d/></domain>", (int)count - 1, 0);
	} else if (strcmp(what, "open names") == 0) {
		open_names(d, count);
	} else if (strcmp(what, "declaration") == 0) {
		put(d, "<?xml version='1.0'%*s?><domain><devices/></domain>", (int)(count - 21), "");
	} else if (strcmp(what, "attribute names") == 0) {
		put(d, "<domain");
		put_names(d, count, put_attribute, 'a');
		put(d, "><devices/></domain>");
	} else if (strcmp(what, "entities") == 0) {
		put(d, "<!DOCTYPE domain [");
		for (size_t i = 0; i < count; i++)
			put(d, "<!ENTITY e%zu 'v'>", i);
		put(d, "]><domain><devices/></domain>");
	} else if (strcmp(what, "entity names") == 0) {
		put(d, "<!DOCTYPE domain [");
		put_names(d, count, put_entity, 'e');
		put(d, "]><domain><devices/></domain>");
	}
}

/* what of size at is accepted; of at + 1 refused with want, of kind */
static void check_exact_limit(const char *what, size_t at, enum xmlpatch_refusal kind, const char *want)
{
	static struct doc d;
	char label[128], got[256];
	struct run r;
	for (size_t size = at; size <= at + 1; size++) {
		build(&d, what, size);
		patch(d.s, d.n, one_usb, 1, false, &r);
		snprintf(label, sizeof label, "xmlpatch limit exactly: %s %zu %s", what, size,
			 size == at ? "accepted" : "refused");
		snprintf(got, sizeof got, "%s%s", r.rc == 0 ? "(accepted)" : r.err.kind == kind ? "" : "(another kind) ",
			 r.rc == 0 ? "" : strstr(r.err.message, ": ") + 2);
		CHECK_STR(label, got, size == at ? "(accepted)" : want);
		free(r.out);
	}
}

static void check_exact_limits(void)
{
	check_exact_limit("depth", 257, XMLPATCH_MALFORMED, "elements nested more than 257 deep");
	check_exact_limit("name", 256, XMLPATCH_LIMIT, "name longer than 256 bytes");
	check_exact_limit("open names", 16384, XMLPATCH_LIMIT, "open element names longer than 16384 bytes in all");
	check_exact_limit("declaration", 263, XMLPATCH_LIMIT, "XML declaration longer than 263 bytes");
	check_exact_limit("attribute names", 4096, XMLPATCH_LIMIT, "attribute names longer than 4096 bytes in one tag");
	check_exact_limit("entities", 64, XMLPATCH_LIMIT,
			  "more than 64 entities, or 4096 bytes of their names, in the DOCTYPE");
	check_exact_limit("entity names", 4096, XMLPATCH_LIMIT,
			  "more than 64 entities, or 4096 bytes of their names, in the DOCTYPE");
}

/* What libxml2 accepts, accepted here too. */
static void check_accepted(void)
{
	static const char *const docs[] = {
		"<?xml version='1.1' encoding='utf8'?><domain><devices/></domain>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"standalone=\"yes\"?><domain><devices/></domain>",
		"<!DOCTYPE domain [<!ENTITY e 'x'> <!ENTITY lt '&#38;#60;'> <!-- c --> <?p x?>] ><domain a='&e;&lt;'>&e;"
		"<devices/></domain>",
		"<!DOCTYPE domain PUBLIC '-//x//y' 'd.dtd'><domain><devices/></domain>",
		"<domain xmlns:a='u' xmlns:b='u' a:x='1' b:x='2' a:b:c='3' :x='4' y:='5'><devices/></domain>",
		"<domain>]]&gt; ]] > ]]]<devices/>&#x10FFFF;&#xD7FF;</domain>",
		"<domain \xC3\x80\xCC\x80" "='1'><devices/><a\xC2\xB7" "-.b/></domain>",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		struct run r;
		patch(docs[i], strlen(docs[i]), one_usb, 1, false, &r);
		char label[96];
		snprintf(label, sizeof label, "xmlpatch accepts well-formed document %zu", i + 1);
		CHECK_STR(label, r.rc ? r.err.message : "(accepted)", "(accepted)");
		free(r.out);
	}
}

/* ---- hostile and large input ---- */

static char *repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	*len = hl + ul * times + tl;
	char *s = malloc(*len + 1);
	if (!s)
		die("malloc");
	memcpy(s, head, hl);
	for (size_t i = 0; i < times; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * times, tail, tl + 1);
	return s;
}

static void check_hostile(void)
{
	size_t n;
	struct run r;
	char *s = repeat("<domain>", "<a>", 100000, "", &n);
	patch(s, n, one_usb, 1, false, &r);
	CHECK_STR("xmlpatch error: 100,000-deep nesting", r.rc ? r.err.message : "(no error)",
		  "line 1:777: elements nested more than 257 deep");
	free(r.out);
	free(s);

	s = repeat("<domain><", "n", 1 << 20, "/></domain>", &n);
	patch(s, n, one_usb, 1, false, &r);
	CHECK_STR("xmlpatch error: name of 1 MiB", r.rc ? r.err.message : "(no error)",
		  "line 1:266: name longer than 256 bytes");
	free(r.out);
	free(s);

	s = repeat("<domain><a b='", "x>/", (10u << 20) / 3, "'/><devices/></domain>", &n);
	patch(s, n, one_usb, 1, false, &r);
	CHECK("xmlpatch 10 MB attribute value", r.rc == 0 && r.result.mode == XMLPATCH_EXPANDED &&
						 invariant_holds(&r, s, n));
	free(r.out);
	s[n - strlen("'/><devices/></domain>")] = '\0';
	patch(s, strlen(s), one_usb, 1, false, &r);
	CHECK_STR("xmlpatch error: EOF in a 10 MB attribute value", r.rc ? r.err.message : "(no error)",
		  "line 1:10485774: unexpected end of the document in an attribute value");
	free(r.out);
	free(s);

	/* the '<' of </devices> must wait for its name, not for the whitespace after it */
	s = repeat("<domain>\n  <devices>\n    <disk/>\n  </devices", " ", 1u << 20, ">\n</domain>\n", &n);
	patch_read(s, n, one_usb, 1, short_read, &r);
	CHECK("xmlpatch </devices followed by 1 MiB of whitespace",
	      r.rc == 0 && r.result.mode == XMLPATCH_INSERTED && invariant_holds(&r, s, n) &&
		      r.result.insert_offset == strlen("<domain>\n  <devices>\n    <disk/>\n  "));
	free(r.out);
	free(s);
	s = repeat("<domain>\n  <devices", " ", 1u << 20, "/>\n</domain>\n", &n);
	patch_read(s, n, one_usb, 1, short_read, &r);
	CHECK("xmlpatch <devices followed by 1 MiB of whitespace and />",
	      r.rc == 0 && r.result.mode == XMLPATCH_EXPANDED && invariant_holds(&r, s, n));
	free(r.out);
	free(s);

	s = repeat("<domain><!--", "<devices> - ", (10u << 20) / 12, "--><devices/></domain>", &n);
	patch(s, n, one_usb, 1, false, &r);
	CHECK("xmlpatch 10 MB comment", r.rc == 0 && r.result.mode == XMLPATCH_EXPANDED &&
					invariant_holds(&r, s, n));
	free(r.out);
	free(s);
}

static long max_rss_kib(void)
{
	struct rusage u;
	return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss : -1;
}

/* 64 MB through a pipe: memory does not grow with the document. */
static void check_streaming(void)
{
	const char *unit = "    <disk type='file' device='disk'>\n"
			   "      <source file='/rhev/data-center/mnt/a/b/c'/>\n"
			   "      <target dev='vda' bus='virtio'/>\n"
			   "    </disk>\n";
	size_t unit_len = strlen(unit), times = (64u << 20) / unit_len, len;
	char *body = repeat("", unit, 1024, "", &len);
	const char *head = "<domain type='kvm'>\n  <devices>\n", *tail = "  </devices>\n</domain>\n";
	long before = max_rss_kib();
	int fds[2];
	if (pipe(fds) < 0)
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(fds[0]);
		write_all(fds[1], head, strlen(head), 1 << 16);
		for (size_t i = 0; i < times / 1024; i++)
			write_all(fds[1], body, len, 1 << 16);
		write_all(fds[1], tail, strlen(tail), 1 << 16);
		_exit(0);
	}
	close(fds[1]);
	int out = open("/dev/null", O_WRONLY);
	if (out < 0)
		die("/dev/null");
	struct xmlpatch_result res;
	struct xmlpatch_error err;
	int rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = fds[0] }, out, one_usb, 1, &res, &err);
	close(fds[0]);
	close(out);
	waitpid(child, NULL, 0);
	long grown = max_rss_kib() - before;
	unsigned long long where = strlen(head) + (unsigned long long)(times / 1024) * len + 2;
	CHECK("xmlpatch 64 MB document streams", rc == 0 && res.mode == XMLPATCH_INSERTED &&
						 res.insert_offset == where);
	char label[128];
	snprintf(label, sizeof label, "xmlpatch 64 MB document: memory grew %ld KiB (< 4 MiB)", grown);
	CHECK(label, before > 0 && grown < 4096);
	free(body);
}

/* Lines counted over many windows and blocks of the check, with LF or CRLF, tabs or not: the error's line. */
static void check_line_count(const char *name, const char *newline, const char *unit, size_t times,
			     unsigned long line_after)
{
	char head[32], tail[64];
	snprintf(head, sizeof head, "<domain>%s", newline);
	snprintf(tail, sizeof tail, "  <b></c>%s</domain>%s", newline, newline);
	size_t n;
	char *s = repeat(head, unit, times, tail, &n);
	char want[96], label[128];
	snprintf(want, sizeof want, "line %lu:6: mismatched end tag, expected </b>", line_after);
	snprintf(label, sizeof label, "xmlpatch error line after %zu lines: %s", times, name);
	check_error_run(label, s, n, want, false);
	free(s);
}

static void check_line_counts(void)
{
	check_line_count("LF", "\n", "  <a x='1'/>\n", 40000, 40002);
	check_line_count("CRLF", "\r\n", "  <a x='1'/>\r\n", 40000, 40002);
	check_line_count("tabs", "\n", "\t<a\tx='1'/>\n", 30000, 30002);
	check_line_count("short lines", "\n", "<a/>\n<a/>\n\n", 30000, 90002);
	check_line_count("long lines", "\n",
			 "  <a x='0123456789012345678901234567890123456789012345678901234567890123456789'/>\n", 5000,
			 5002);
}

static void check_io_errors(void)
{
	struct xmlpatch_result res;
	struct xmlpatch_error err;
	int out = open("/dev/null", O_WRONLY);
	int rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = -1 }, out, one_usb, 1, &res, &err);
	CHECK_STR("xmlpatch read error", rc ? err.message : "(no error)", "read: Bad file descriptor");
	close(out);

	pid_t child;
	const char *doc = "<domain><devices/></domain>";
	int in = feeder(doc, strlen(doc), strlen(doc), &child);
	rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = in }, -1, one_usb, 1, &res, &err);
	CHECK_STR("xmlpatch write error", rc ? err.message : "(no error)", "write: Bad file descriptor");
	close(in);
	waitpid(child, NULL, 0);
}

static void check_no_fragments(void)
{
	const char *doc = "<domain>\n  <devices/>\n</domain>\n";
	struct run r;
	patch(doc, strlen(doc), NULL, 0, false, &r);
	CHECK("xmlpatch no fragments: document unchanged",
	      r.rc == 0 && r.out_len == strlen(doc) && memcmp(r.out, doc, r.out_len) == 0 &&
		      r.result.mode == XMLPATCH_EXPANDED && r.result.insert_length == 2);
	free(r.out);
}

int main(int argc, char **argv)
{
	write_golden = argc > 1 && strcmp(argv[1], "--write-golden") == 0;
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++)
		check_golden(&goldens[i]);
	check_errors();
	check_well_formedness();
	check_limits();
	check_exact_limits();
	check_accepted();
	check_hostile();
	check_streaming();
	check_line_counts();
	check_io_errors();
	check_no_fragments();
	return check_status();
}
