/* titan-ujo — "jq for UJO": decode UJO documents and titanfe frame
 * streams to JSON or a readable dump, and encode JSON (with type
 * annotations) to UJO. See man/man1/titan-ujo.1.
 *
 * main.c reads the command line and hands over to decode.c / encode.c.
 */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef TITAN_VERSION
#define TITAN_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: titan-ujo decode [-x] [-f [-m] [--max-frame N]] [-j | -t | -d] [-p] [-b] [FILE]\n"
	"       titan-ujo encode [-x] [-f [--max-frame N]] [-b] [--force] [FILE]\n"
	"       titan-ujo --help | --version\n"
	"\n"
	"decode: UJO (one document, or a stream of titanfe frames) to JSON or a dump\n"
	"  -x, --hex          the input is hex text (whitespace and '|' are ignored)\n"
	"  -f, --frames       the input is frames: 4-byte big-endian length + document\n"
	"  -m, --messages     name titanfe messages in the dump (implies -f -d)\n"
	"      --max-frame N  largest frame accepted, in bytes (default 16777216)\n"
	"  -j, --json         plain JSON, one value per line (the default)\n"
	"  -t, --typed        JSON with type annotations, which encode turns back into\n"
	"                     the same bytes\n"
	"  -d, --dump         readable typed dump, one value per line\n"
	"  -p, --pretty       indent the JSON\n"
	"  -b, --bare         the input is one value without the UJO header\n"
	"\n"
	"encode: JSON (with type annotations) to UJO on standard output\n"
	"  -x, --hex          write lowercase hex and a newline instead of binary\n"
	"  -f, --frame        write each top-level JSON value of the input as one frame\n"
	"      --max-frame N  refuse a frame larger than N bytes (default 16777216)\n"
	"  -b, --bare         write one value without the UJO header\n"
	"      --force        write binary even to a terminal\n"
	"\n"
	"FILE is read from standard input when absent or \"-\".\n"
	"Exit status: 0 ok, 64 usage, 65 bad data, 66 cannot open FILE, 74 I/O error.\n";

enum { OPT_MAX_FRAME = 256, OPT_FORCE };

static const struct option decode_opts[] = {
	{"hex", no_argument, NULL, 'x'},      {"frames", no_argument, NULL, 'f'},
	{"frame", no_argument, NULL, 'f'},    {"messages", no_argument, NULL, 'm'},
	{"max-frame", required_argument, NULL, OPT_MAX_FRAME},
	{"json", no_argument, NULL, 'j'},     {"typed", no_argument, NULL, 't'},
	{"dump", no_argument, NULL, 'd'},     {"pretty", no_argument, NULL, 'p'},
	{"bare", no_argument, NULL, 'b'},     {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option encode_opts[] = {
	{"hex", no_argument, NULL, 'x'},   {"frame", no_argument, NULL, 'f'},
	{"frames", no_argument, NULL, 'f'}, {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
	{"bare", no_argument, NULL, 'b'},  {"force", no_argument, NULL, OPT_FORCE},
	{"help", no_argument, NULL, 'h'},  {NULL, 0, NULL, 0},
};

void tool_error(const char *fmt, ...)
{
	va_list ap;
	fputs("titan-ujo: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_error(const char *what, const char *arg)
{
	tool_error("%s%s (see titan-ujo --help)", what, arg ? arg : "");
	return EX_USAGE;
}

static bool parse_max_frame(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < FRAME_MIN_BODY || v > FRAME_MAX_CEILING) return false;
	*out = (uint32_t)v;
	return true;
}

static void set_format(struct opts *o, enum out_format f)
{
	o->format = f;
	o->format_set = true;
}

/* One option of either command; returns -1 to go on, or an exit code. */
static int take_option(struct opts *o, int c, const char *arg, char **argv)
{
	switch (c) {
	case 'x': o->hex = true; break;
	case 'f': o->frames = true; break;
	case 'm': o->messages = true; break;
	case 'j': set_format(o, OUT_JSON); break;
	case 't': set_format(o, OUT_TYPED); break;
	case 'd': set_format(o, OUT_DUMP); break;
	case 'p': o->pretty = true; break;
	case 'b': o->bare = true; break;
	case OPT_FORCE: o->force = true; break;
	case OPT_MAX_FRAME:
		if (!parse_max_frame(arg, &o->max_frame))
			return usage_error("--max-frame needs a number of bytes from 9 to 1073741824, not ", arg);
		break;
	case 'h': fputs(usage_text, stdout); return 0;
	case ':': return usage_error("missing argument for ", argv[optind - 1]);
	default: {
		/* a short option may sit inside a cluster: name it alone */
		char opt[3] = {'-', (char)optopt, 0};
		return usage_error("unknown option ", optopt > 0 && optopt < 128 ? opt : argv[optind - 1]);
	}
	}
	return -1;
}

/* Combinations that make no sense are refused rather than guessed at. */
static int check_options(struct opts *o, bool decode)
{
	if (o->bare && o->frames) return usage_error("--bare and --frames exclude each other", NULL);
	if (!decode) return -1;
	if (o->messages) {
		if (o->format_set && o->format != OUT_DUMP)
			return usage_error("--messages shows a dump: it does not combine with --json or --typed", NULL);
		o->frames = true;
		o->format = OUT_DUMP;
	}
	if (o->bare && o->frames) return usage_error("--bare and --messages exclude each other", NULL);
	if (o->pretty && o->format == OUT_DUMP) return usage_error("--pretty applies to JSON output, not to --dump", NULL);
	return -1;
}

static int run_command(int argc, char **argv, bool decode)
{
	struct opts o = {.max_frame = FRAME_MAX_DEFAULT, .format = OUT_JSON};
	int c, rc;
	opterr = 0; /* our own one-line messages */
	optind = 1;
	while ((c = getopt_long(argc, argv, decode ? ":xfmjtdpbh" : ":xfbh", decode ? decode_opts : encode_opts,
				NULL)) != -1)
		if ((rc = take_option(&o, c, optarg, argv)) >= 0) return rc;
	if (argc - optind > 1) return usage_error("too many operands: ", argv[optind + 1]);
	o.file = optind < argc ? argv[optind] : NULL;
	if ((rc = check_options(&o, decode)) >= 0) return rc;
	return decode ? cmd_decode(&o) : cmd_encode(&o);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("titan-ujo %s\n", TITAN_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "decode")) return run_command(argc - 1, argv + 1, true);
	if (!strcmp(cmd, "encode")) return run_command(argc - 1, argv + 1, false);
	if (cmd[0] == '-') return usage_error("a command must come first: decode or encode, not ", cmd);
	return usage_error("unknown command (expected decode or encode): ", cmd);
}
