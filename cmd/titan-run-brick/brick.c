/* brick.c — the embedded-Python half of titan-run-brick (brick.h).
 *
 * One interpreter per process, started by brick_load on the brick thread:
 * Debian's CPython 3.11 (linked through pkg-config python3-embed), an
 * isolated configuration (no PYTHON* variables, no user site, no cwd on
 * sys.path, no Python signal handlers, UTF-8 mode), inside the brick's
 * venv/ when there is one (PyConfig.executable = <venv>/bin/python, so
 * pyvenv.cfg and its site-packages apply as for the original's per-brick
 * venv). The brick API (titanfe, ujotypes) is Python found in the titan
 * python directory, put first on sys.path; the UJO classes and
 * conversions, emit, log and decrypt are the built-in C module _titan
 * (this file, pyujo.c, pycrypt.c).
 *
 * GIL: brick_load ends by releasing it; brick_process takes it for one
 * call and releases it again; every callback into the runner (emit, log)
 * runs with the GIL released, so a blocking emit (back pressure) never
 * stalls other Python threads of the brick or brick_stop.
 */
#include "pyujo.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "brick.h"
#include "log.h"
#include "pyrun.h"

struct brick {
	struct brick_def def; /* callbacks, ctx, flags; strings point to the copies below */
	char *default_port, **out_ports, *secret_key, *flow_uid, *logger;
	size_t n_out;
	bool plain, inlet_class;
	pthread_t thread; /* the brick thread (brick_load's caller) */
	PyThreadState *tstate;
	PyObject *runner;   /* titanfe._runner */
	PyObject *instance; /* the Brick */
	PyObject *process;  /* instance.process, bound once */
	PyObject *port_obj; /* last input port name, as str */
	char *port_str;
	struct ujo_buf out;  /* result of process(), brick thread */
	struct ujo_buf ebuf; /* emit_new_packet on the brick thread */
	pthread_mutex_t lock; /* alive, for brick_stop from other threads */
	bool alive;
	int key_state; /* decrypt key: 0 not derived, 1 derived, -1 failed */
	uint8_t key[TITAN_SECRET_KEY_LEN];
};

/* The brick of this process: the context of the _titan functions. */
static struct brick *G;
static PyObject *ShuttingDown, *DecryptionError;
static bool inittab_done;

/* ------------------------------------------------------------------ */
/* Logging to the runner                                               */

static void blog(struct brick *b, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A record about the brick (our own messages); any thread, GIL or not. */
static void blog(struct brick *b, int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (b && b->def.log) b->def.log(b->def.ctx, level, b->logger, msg);
	else log_msg(level >= BRICK_ERROR ? LOG_LVL_ERROR : level >= BRICK_WARNING ? LOG_LVL_WARNING
						: level >= BRICK_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG, "%s", msg);
}

/* Drop the leading traceback entries of the runner's own Python code
 * (titanfe/_runner.py) and of importlib: a load error then starts at the
 * brick's module. Steals tb, returns a new reference (or NULL). */
static PyObject *trim_traceback(PyObject *tb)
{
	PyObject *cur = tb;
	while (cur && PyTraceBack_Check(cur)) {
		PyTracebackObject *t = (PyTracebackObject *)cur;
		PyCodeObject *code = PyFrame_GetCode(t->tb_frame);
		const char *fn = code ? PyUnicode_AsUTF8(code->co_filename) : NULL;
		Py_XDECREF(code);
		if (!fn) {
			PyErr_Clear();
			break;
		}
		bool ours = strstr(fn, "/titanfe/_runner.py") || strstr(fn, "<frozen importlib") ||
			    strstr(fn, "/importlib/__init__.py");
		if (!ours || !t->tb_next) break;
		cur = (PyObject *)t->tb_next;
	}
	Py_XINCREF(cur);
	Py_XDECREF(tb);
	return cur;
}

/* One record with the text of the current Python exception (cleared):
 * "<what>: <Type>: <message>\n<traceback>". With the GIL. */
static void log_exception(struct brick *b, int level, const char *what, char *err, size_t errlen)
{
	PyObject *t, *v, *tb;
	PyErr_Fetch(&t, &v, &tb);
	if (!t) return;
	PyErr_NormalizeException(&t, &v, &tb);
	tb = trim_traceback(tb);
	if (v) PyException_SetTraceback(v, tb ? tb : Py_None);
	char *summary = NULL, *text = NULL;
	PyObject *s = v ? PyObject_Str(v) : NULL;
	const char *tname = ((PyTypeObject *)t)->tp_name;
	const char *dot = strrchr(tname, '.');
	if (dot && (strncmp(tname, "builtins.", 9) == 0 || strncmp(tname, "_titan.", 7) == 0)) tname = dot + 1;
	const char *sv = s ? PyUnicode_AsUTF8(s) : NULL;
	if (!sv) PyErr_Clear();
	if (asprintf(&summary, "%s%s%s", tname, sv && *sv ? ": " : "", sv ? sv : "") < 0) summary = NULL;
	Py_XDECREF(s);
	/* No traceback (raised by C code): the summary says it all. */
	PyObject *tbmod = v && tb ? PyImport_ImportModule("traceback") : NULL;
	PyObject *lines = tbmod ? PyObject_CallMethod(tbmod, "format_exception", "O", v) : NULL;
	PyObject *sep = lines ? PyUnicode_FromString("") : NULL;
	PyObject *joined = sep ? PyUnicode_Join(sep, lines) : NULL;
	const char *jv = joined ? PyUnicode_AsUTF8(joined) : NULL;
	if (jv) text = strdup(jv);
	else PyErr_Clear();
	Py_XDECREF(joined);
	Py_XDECREF(sep);
	Py_XDECREF(lines);
	Py_XDECREF(tbmod);
	if (text) {
		size_t n = strlen(text);
		while (n && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = '\0';
	}
	if (err && errlen) snprintf(err, errlen, "%s: %s", what, summary ? summary : "(unprintable exception)");
	if (level >= 0) {
		char *msg = NULL;
		if (asprintf(&msg, "%s: %s%s%s", what, summary ? summary : "(unprintable exception)",
			     text ? "\n" : "", text ? text : "") < 0)
			msg = NULL;
		if (msg) {
			if (b && b->def.log) {
				PyThreadState *ts_ = PyEval_SaveThread();
				b->def.log(b->def.ctx, level, b->logger, msg);
				PyEval_RestoreThread(ts_);
			} else {
				log_msg(LOG_LVL_ERROR, "%s", msg);
			}
		}
		free(msg);
	}
	free(summary);
	free(text);
	Py_XDECREF(t);
	Py_XDECREF(v);
	Py_XDECREF(tb);
}

/* ------------------------------------------------------------------ */
/* Ports                                                               */

/* The output port for a result: port (str, "" or None = default port).
 * Returns the name, or NULL with ValueError set. */
static const char *out_port(struct brick *b, PyObject *port)
{
	const char *name = NULL;
	if (port && port != Py_None) {
		if (!PyUnicode_Check(port)) {
			PyErr_Format(PyExc_TypeError, "an output port name must be a str, not %.100s",
				     Py_TYPE(port)->tp_name);
			return NULL;
		}
		name = PyUnicode_AsUTF8(port);
		if (!name) return NULL;
	}
	if (!name || !*name) {
		if (!*b->default_port) {
			PyErr_SetString(PyExc_ValueError, "the brick has no output port");
			return NULL;
		}
		return b->default_port;
	}
	if (b->n_out == 0) return name; /* local mode without declared ports: any name */
	for (size_t i = 0; i < b->n_out; i++)
		if (strcmp(b->out_ports[i], name) == 0) return name;
	PyErr_Format(PyExc_ValueError, "unknown output port '%s' (the brick's output ports: %s%s%s%s)", name,
		     b->out_ports[0], b->n_out > 1 ? ", " : "", b->n_out > 1 ? b->out_ports[1] : "",
		     b->n_out > 2 ? ", ..." : "");
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The _titan module                                                   */

/* emit_new_packet(value, port=None): a new packet on port. */
static PyObject *t_emit(PyObject *mod, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	(void)mod;
	PyObject *value = nargs > 0 ? args[0] : NULL, *port = nargs > 1 ? args[1] : Py_None;
	if (nargs > 2) {
		PyErr_SetString(PyExc_TypeError, "emit_new_packet(value, port=None) takes at most 2 arguments");
		return NULL;
	}
	for (Py_ssize_t i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++) {
		const char *k = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
		if (!k) return NULL;
		if (strcmp(k, "port") == 0) port = args[nargs + i];
		else if (strcmp(k, "value") == 0) value = args[nargs + i];
		else {
			PyErr_Format(PyExc_TypeError, "emit_new_packet() got an unexpected keyword argument '%s'", k);
			return NULL;
		}
	}
	if (!value) {
		PyErr_SetString(PyExc_TypeError, "emit_new_packet() missing its value");
		return NULL;
	}
	struct brick *b = G;
	if (!b) {
		PyErr_SetString(ShuttingDown, "no brick is loaded");
		return NULL;
	}
	if (b->def.is_outlet) return Py_NewRef(Py_None); /* an outlet forwards nothing (titanfe) */
	const char *name = out_port(b, port);
	if (!name) return NULL;
	bool mine = pthread_equal(pthread_self(), b->thread);
	struct ujo_buf local, *buf = &b->ebuf;
	if (!mine) {
		ujo_buf_init(&local);
		buf = &local;
	}
	if (pyujo_encode_bare(value, buf) < 0) {
		if (!mine) ujo_buf_free(&local);
		return NULL;
	}
	int rc;
	PyThreadState *ts_ = PyEval_SaveThread();
	rc = b->def.emit ? b->def.emit(b->def.ctx, name, buf->data, buf->len, true) : 0;
	PyEval_RestoreThread(ts_);
	if (!mine) ujo_buf_free(&local);
	if (rc < 0) {
		PyErr_SetString(ShuttingDown, "the runner is shutting down: the packet was not sent");
		return NULL;
	}
	return Py_NewRef(Py_None);
}

/* log(levelno, logger_name, message) */
static PyObject *t_log(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
	(void)mod;
	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError, "log(levelno, name, message)");
		return NULL;
	}
	long lv = PyLong_AsLong(args[0]);
	if (lv == -1 && PyErr_Occurred()) return NULL;
	const char *name = PyUnicode_AsUTF8(args[1]), *msg = name ? PyUnicode_AsUTF8(args[2]) : NULL;
	if (!msg) return NULL;
	int level = lv >= BRICK_ERROR ? BRICK_ERROR : lv >= BRICK_WARNING ? BRICK_WARNING : lv >= BRICK_INFO ? BRICK_INFO
														: BRICK_DEBUG;
	struct brick *b = G;
	PyThreadState *ts_ = PyEval_SaveThread();
	if (b && b->def.log) b->def.log(b->def.ctx, level, name, msg);
	else log_msg(level >= BRICK_ERROR ? LOG_LVL_ERROR : level >= BRICK_WARNING ? LOG_LVL_WARNING
						 : level >= BRICK_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG, "%s: %s", name, msg);
	PyEval_RestoreThread(ts_);
	return Py_NewRef(Py_None);
}

/* decrypt_parameter(hex) -> str */
static PyObject *t_decrypt(PyObject *mod, PyObject *arg)
{
	(void)mod;
	struct brick *b = G;
	const char *hex;
	Py_ssize_t hexlen;
	if (PyUnicode_Check(arg)) {
		hex = PyUnicode_AsUTF8AndSize(arg, &hexlen);
		if (!hex) return NULL;
	} else if (PyBytes_Check(arg)) {
		hex = PyBytes_AS_STRING(arg);
		hexlen = PyBytes_GET_SIZE(arg);
	} else {
		PyErr_Format(PyExc_TypeError, "decrypt_parameter() takes a hex str, not %.100s", Py_TYPE(arg)->tp_name);
		return NULL;
	}
	if (!b || !b->secret_key) {
		PyErr_SetString(DecryptionError,
				"cannot decrypt the parameter: no secret key is configured (SecretKey, TITAN_SECRET_KEY)");
		return NULL;
	}
	if (b->key_state == 0) {
		uint8_t key[TITAN_SECRET_KEY_LEN];
		int rc;
		PyThreadState *ts_ = PyEval_SaveThread();
		rc = pycrypt_derive_key(b->secret_key, b->flow_uid, key);
		PyEval_RestoreThread(ts_);
		if (b->key_state == 0) {
			memcpy(b->key, key, sizeof key);
			b->key_state = rc == 0 ? 1 : -1;
		}
		OPENSSL_cleanse(key, sizeof key);
	}
	if (b->key_state < 0) {
		PyErr_SetString(DecryptionError, "cannot decrypt the parameter: key derivation failed");
		return NULL;
	}
	char *plain;
	size_t plen;
	const char *why;
	if (pycrypt_decrypt_hex(b->key, hex, (size_t)hexlen, &plain, &plen, &why) < 0) {
		PyErr_Format(DecryptionError, "cannot decrypt the parameter: %s", why);
		return NULL;
	}
	PyObject *r = PyUnicode_DecodeUTF8(plain, (Py_ssize_t)plen, "strict");
	OPENSSL_cleanse(plain, plen);
	free(plain);
	if (!r) {
		PyErr_Clear();
		PyErr_SetString(DecryptionError, "cannot decrypt the parameter: the plaintext is not UTF-8 text");
	}
	return r;
}

static PyMethodDef titan_functions[] = {
	{"emit_new_packet", PY_FN(t_emit), METH_FASTCALL | METH_KEYWORDS,
	 "emit_new_packet(value, port=None): send value as a new packet on port (default: the default port)"},
	{"log", PY_FN(t_log), METH_FASTCALL, "log(levelno, logger_name, message): one record to the runner's log"},
	{"decrypt_parameter", t_decrypt, METH_O, "decrypt_parameter(hex) -> str (AES-256-GCM, tag verified)"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef titan_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_titan",
	.m_doc = "titan-run-brick's built-in module: UJO values in C, emit, log, decrypt.",
	.m_size = -1,
	.m_methods = titan_functions,
};

static PyObject *PyInit__titan(void)
{
	PyObject *m = PyModule_Create(&titan_module);
	if (!m) return NULL;
	ShuttingDown = PyErr_NewExceptionWithDoc("_titan.ShuttingDown",
						 "emit_new_packet: the runner is shutting down, the packet was not sent",
						 PyExc_RuntimeError, NULL);
	DecryptionError = PyErr_NewExceptionWithDoc("_titan.DecryptionError",
						    "decrypt_parameter: no key, bad hex, too short, or a wrong tag",
						    PyExc_ValueError, NULL);
	if (!ShuttingDown || !DecryptionError || PyModule_AddObjectRef(m, "ShuttingDown", ShuttingDown) < 0 ||
	    PyModule_AddObjectRef(m, "DecryptionError", DecryptionError) < 0 || pyujo_add_to_module(m) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}

/* ------------------------------------------------------------------ */
/* Finding things                                                      */

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_api(const char *dir)
{
	char p[PATH_MAX];
	return snprintf(p, sizeof p, "%s/titanfe/__init__.py", dir) < (int)sizeof p && is_file(p) &&
	       snprintf(p, sizeof p, "%s/ujotypes.py", dir) < (int)sizeof p && is_file(p);
}

/* The directory with titanfe/ and ujotypes.py: def->python_path, else
 * $TITAN_PYTHON_PATH, else next to the executable (installed:
 * <bin>/../share/titan/python; build tree: <bin>/../../cmd/titan-run-brick/python). */
static char *python_dir(const char *given, char *err, size_t errlen)
{
	const char *env = getenv("TITAN_PYTHON_PATH");
	const char *pick = given && *given ? given : env && *env ? env : NULL;
	if (pick) {
		if (!has_api(pick)) {
			snprintf(err, errlen, "the Python brick API is not in %s (%s): no titanfe/__init__.py or ujotypes.py",
				 pick, given && *given ? "python_path" : "TITAN_PYTHON_PATH");
			return NULL;
		}
		return realpath(pick, NULL);
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(err, errlen, "cannot find the executable (/proc/self/exe): %s", strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash) *slash = '\0';
	static const char *const rel[] = {"../share/titan/python", "../../cmd/titan-run-brick/python"};
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof p, "%s/%s", exe, rel[i]) >= (int)sizeof p) continue;
		if (has_api(p)) return realpath(p, NULL);
	}
	snprintf(err, errlen,
		 "the Python brick API (titanfe/, ujotypes.py) is not installed: looked in %s/../share/titan/python "
		 "and %s/../../cmd/titan-run-brick/python; set TITAN_PYTHON_PATH",
		 exe, exe);
	return NULL;
}

/* <module dir>/venv/bin/python, or NULL. The module dir is the brick
 * folder, or the folder of a .py file given directly. */
static char *venv_python(const char *path)
{
	char dir[PATH_MAX], p[PATH_MAX];
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return NULL;
	if (!is_dir(dir)) {
		char *slash = strrchr(dir, '/');
		if (slash) *slash = '\0';
		else snprintf(dir, sizeof dir, ".");
	}
	if (snprintf(p, sizeof p, "%s/venv/bin/python", dir) >= (int)sizeof p) return NULL;
	if (access(p, X_OK) != 0) return NULL;
	char cfg[PATH_MAX];
	if (snprintf(cfg, sizeof cfg, "%s/venv/pyvenv.cfg", dir) >= (int)sizeof cfg || !is_file(cfg)) return NULL;
	/* Keep the symlink (realpath would leave the venv): make it absolute. */
	if (p[0] == '/') return strdup(p);
	char cwd[PATH_MAX], *abs = NULL;
	if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, p) < 0) return NULL;
	return abs;
}

/* ------------------------------------------------------------------ */
/* Load                                                                */

static int py_start(const char *venv, char *err, size_t errlen)
{
	if (!inittab_done) {
		if (PyImport_AppendInittab("_titan", PyInit__titan) < 0) {
			snprintf(err, errlen, "cannot register the _titan module");
			return -1;
		}
		inittab_done = true;
	}
	PyPreConfig pre;
	PyPreConfig_InitIsolatedConfig(&pre);
	pre.utf8_mode = 1;
	PyStatus st = Py_PreInitialize(&pre);
	if (PyStatus_Exception(st)) goto bad;
	PyConfig cfg;
	PyConfig_InitIsolatedConfig(&cfg);
	cfg.install_signal_handlers = 0; /* the runner owns the signals */
	cfg.write_bytecode = 0;           /* no __pycache__ in brick folders */
	cfg.parse_argv = 0;
	cfg.site_import = 1;
	char *argv[] = {"titan-run-brick", NULL};
	char exe[64];
	snprintf(exe, sizeof exe, "/usr/bin/python%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
	st = PyConfig_SetBytesArgv(&cfg, 1, argv);
	if (!PyStatus_Exception(st)) st = PyConfig_SetBytesString(&cfg, &cfg.program_name, "titan-run-brick");
	/* sys.executable: the venv's python (which selects the venv), or the
	 * base interpreter, so that subprocess/multiprocessing in a brick run
	 * Python and not the runner. */
	if (!PyStatus_Exception(st) && (venv || access(exe, X_OK) == 0))
		st = PyConfig_SetBytesString(&cfg, &cfg.executable, venv ? venv : exe);
	if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st)) goto bad;
	return 0;
bad:
	snprintf(err, errlen, "cannot start Python: %s%s%s", st.func ? st.func : "", st.func ? ": " : "",
		 st.err_msg ? st.err_msg : "unknown error");
	return -1;
}

/* sys.stdout and sys.stderr (with the GIL). */
static void flush_std(void)
{
	static const char *const names[] = {"stdout", "stderr"};
	for (int i = 0; i < 2; i++) {
		PyObject *f = PySys_GetObject(names[i]); /* borrowed */
		PyObject *r = f && f != Py_None ? PyObject_CallMethod(f, "flush", NULL) : NULL;
		Py_XDECREF(r);
		PyErr_Clear();
	}
}

static int py_level(void)
{
	switch (log_get_level()) {
	case LOG_LVL_DEBUG: return 10;
	case LOG_LVL_INFO: return 20;
	case LOG_LVL_WARNING: return 30;
	default: return 40;
	}
}

static PyObject *str_or_none(const char *s)
{
	return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

/* Keyword arguments for titanfe._runner.load. */
static PyObject *load_kwargs(struct brick *b, const struct brick_def *def, bool force_plain)
{
	PyObject *ports = PyList_New((Py_ssize_t)b->n_out);
	for (size_t i = 0; ports && i < b->n_out; i++) {
		PyObject *s = PyUnicode_FromString(b->out_ports[i]);
		if (!s) Py_CLEAR(ports);
		else PyList_SET_ITEM(ports, (Py_ssize_t)i, s);
	}
	if (!ports) return NULL;
	PyObject *kw = Py_BuildValue(
		"{s:N,s:N,s:s,s:N,s:N,s:N,s:N,s:N,s:N,s:s,s:i,s:O,s:O,s:O,s:s,s:N}", "path", str_or_none(def->path),
		"module", str_or_none(def->module), "params_json", def->params_json ? def->params_json : "{}",
		"flow_uid", str_or_none(b->flow_uid), "flow_name", str_or_none(def->flow_name ? def->flow_name : ""),
		"brick_uid", str_or_none(def->brick_uid ? def->brick_uid : ""), "brick_name",
		str_or_none(def->brick_name ? def->brick_name : ""), "runner_uid",
		str_or_none(def->runner_uid ? def->runner_uid : ""), "repo", str_or_none(def->repo_address),
		"logger", b->logger, "level", py_level(), "is_inlet", def->is_inlet ? Py_True : Py_False, "is_outlet",
		def->is_outlet ? Py_True : Py_False, "force_plain", force_plain ? Py_True : Py_False, "default_port",
		b->default_port, "out_ports", ports);
	return kw;
}

static void free_brick(struct brick *b)
{
	if (!b) return;
	free(b->default_port);
	for (size_t i = 0; i < b->n_out; i++) free(b->out_ports[i]);
	free(b->out_ports);
	if (b->secret_key) {
		OPENSSL_cleanse(b->secret_key, strlen(b->secret_key));
		free(b->secret_key);
	}
	free(b->flow_uid);
	free(b->logger);
	free(b->port_str);
	ujo_buf_free(&b->out);
	ujo_buf_free(&b->ebuf);
	OPENSSL_cleanse(b->key, sizeof b->key);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static char *xstrdup(const char *s, bool *fail)
{
	char *d = strdup(s ? s : "");
	if (!d) *fail = true;
	return d;
}

int brick_load_opts(struct brick **out, const struct brick_def *def, const struct brick_opts *o, char *err,
		    size_t errlen, enum brick_load_error *why)
{
	enum brick_load_error dummy;
	if (!why) why = &dummy;
	*why = BRICK_LOAD_FAILED;
	*out = NULL;
	if (G || Py_IsInitialized()) {
		snprintf(err, errlen, "a brick is already loaded (one brick per process)");
		return -1;
	}
	if (!def->path || !*def->path) {
		snprintf(err, errlen, "no brick path given");
		*why = BRICK_LOAD_NOT_FOUND;
		return -1;
	}
	struct stat st;
	if (stat(def->path, &st) != 0) {
		snprintf(err, errlen, "brick not found: %s: %s", def->path, strerror(errno));
		*why = BRICK_LOAD_NOT_FOUND;
		return -1;
	}
	struct brick *b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&b->lock, NULL);
	ujo_buf_init(&b->out);
	ujo_buf_init(&b->ebuf);
	b->def = *def;
	b->thread = pthread_self();
	bool fail = false;
	b->default_port = xstrdup(def->default_port, &fail);
	b->flow_uid = xstrdup(def->flow_uid, &fail);
	b->secret_key = def->secret_key ? xstrdup(def->secret_key, &fail) : NULL;
	if (asprintf(&b->logger, "titanfe.bricks.%s",
		     def->brick_name && *def->brick_name ? def->brick_name : def->module ? def->module : "brick") < 0) {
		b->logger = NULL;
		fail = true;
	}
	if (def->n_out_ports) {
		b->out_ports = calloc(def->n_out_ports, sizeof *b->out_ports);
		if (!b->out_ports) fail = true;
		for (size_t i = 0; b->out_ports && i < def->n_out_ports; i++) {
			b->out_ports[i] = xstrdup(def->out_ports[i], &fail);
			b->n_out++;
		}
	}
	b->def.default_port = b->default_port;
	b->def.flow_uid = b->flow_uid;
	b->def.secret_key = b->secret_key;
	b->def.out_ports = (const char *const *)b->out_ports;
	b->def.path = b->def.module = b->def.params_json = NULL; /* not kept */
	b->def.flow_name = b->def.brick_uid = b->def.brick_name = b->def.runner_uid = NULL;
	b->def.repo_address = b->def.python_path = NULL;
	if (fail) {
		snprintf(err, errlen, "out of memory");
		free_brick(b);
		return -1;
	}

	char *pydir = python_dir(def->python_path, err, errlen);
	if (!pydir) {
		free_brick(b);
		return -1;
	}
	char *venv = venv_python(def->path);
	int rc = py_start(venv, err, errlen);
	free(venv);
	if (rc < 0) {
		free(pydir);
		free_brick(b);
		return -1;
	}
	G = b;

	PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
	PyObject *pd = PyUnicode_DecodeFSDefault(pydir);
	free(pydir);
	PyObject *kw = NULL, *res = NULL, *load = NULL;
	if (!sys_path || !pd || PyList_Insert(sys_path, 0, pd) < 0) {
		Py_XDECREF(pd);
		log_exception(b, BRICK_ERROR, "cannot set up sys.path", err, errlen);
		goto fail;
	}
	Py_DECREF(pd);
	b->runner = PyImport_ImportModule("titanfe._runner");
	if (!b->runner) {
		log_exception(b, BRICK_ERROR, "cannot import the brick API (titanfe._runner)", err, errlen);
		goto fail;
	}
	load = PyObject_GetAttrString(b->runner, "load");
	kw = load ? load_kwargs(b, def, o && o->force_plain) : NULL;
	PyObject *empty = kw ? PyTuple_New(0) : NULL;
	res = empty ? PyObject_Call(load, empty, kw) : NULL;
	Py_XDECREF(empty);
	if (!res) {
		/* No Python calls with an exception set: take it first. */
		PyObject *t, *v, *tb;
		PyErr_Fetch(&t, &v, &tb);
		PyObject *nf = PyObject_GetAttrString(b->runner, "BrickNotFound");
		PyObject *stage = PyObject_GetAttrString(b->runner, "stage");
		PyErr_Clear();
		if (nf && t && PyErr_GivenExceptionMatches(t, nf)) {
			*why = BRICK_LOAD_NOT_FOUND;
			PyErr_NormalizeException(&t, &v, &tb);
			PyObject *s = v ? PyObject_Str(v) : NULL;
			const char *m = s ? PyUnicode_AsUTF8(s) : NULL;
			snprintf(err, errlen, "%s", m ? m : "brick not found");
			PyErr_Clear();
			Py_XDECREF(s);
			Py_XDECREF(t);
			Py_XDECREF(v);
			Py_XDECREF(tb);
		} else {
			char what[300] = "cannot load the brick";
			const char *sv = stage && PyUnicode_Check(stage) ? PyUnicode_AsUTF8(stage) : NULL;
			if (sv) snprintf(what, sizeof what, "cannot load the brick (%s)", sv);
			PyErr_Clear();
			PyErr_Restore(t, v, tb);
			log_exception(b, BRICK_ERROR, what, err, errlen);
		}
		Py_XDECREF(nf);
		Py_XDECREF(stage);
		goto fail;
	}
	if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 3) {
		snprintf(err, errlen, "titanfe._runner.load returned something odd");
		goto fail;
	}
	b->instance = Py_NewRef(PyTuple_GET_ITEM(res, 0));
	b->plain = PyObject_IsTrue(PyTuple_GET_ITEM(res, 1)) == 1;
	b->inlet_class = PyObject_IsTrue(PyTuple_GET_ITEM(res, 2)) == 1;
	b->process = PyObject_GetAttrString(b->instance, "process");
	if (!b->process) {
		log_exception(b, BRICK_ERROR, "cannot load the brick", err, errlen);
		goto fail;
	}
	Py_CLEAR(res);
	Py_CLEAR(kw);
	Py_CLEAR(load);
	b->alive = true;
	b->tstate = PyEval_SaveThread();
	*why = BRICK_LOAD_OK;
	*out = b;
	return 0;
fail:
	Py_XDECREF(res);
	Py_XDECREF(kw);
	Py_XDECREF(load);
	Py_CLEAR(b->process);
	Py_CLEAR(b->instance);
	Py_CLEAR(b->runner);
	PyErr_Clear();
	flush_std(); /* what the brick printed before it failed */
	G = NULL;
	free_brick(b);
	/* Python stays initialised: the caller exits. A second brick_load in
	 * this process is refused (see above). */
	return -1;
}

int brick_load(struct brick **out, const struct brick_def *def, char *err, size_t errlen)
{
	return brick_load_opts(out, def, NULL, err, errlen, NULL);
}

bool brick_is_inlet_class(const struct brick *b)
{
	return b && b->inlet_class;
}

bool brick_uses_plain_values(const struct brick *b)
{
	return b && b->plain;
}

/* ------------------------------------------------------------------ */
/* Process                                                             */

static PyObject *port_object(struct brick *b, const char *port)
{
	if (b->port_str && strcmp(b->port_str, port) == 0) return Py_NewRef(b->port_obj);
	PyObject *o = PyUnicode_FromString(port);
	if (!o) return NULL;
	char *s = strdup(port);
	if (s) {
		free(b->port_str);
		b->port_str = s;
		Py_XSETREF(b->port_obj, Py_NewRef(o));
	}
	return o;
}

/* What process() returned -> b->out and *port. 1 = send, 0 = nothing, -1
 * = error (logged). With the GIL. */
static int take_result(struct brick *b, PyObject *res, const char **port)
{
	if (res == Py_None || b->def.is_outlet) return 0;
	PyObject *value = res, *pobj = Py_None;
	if (PyTuple_Check(res)) {
		if (PyTuple_GET_SIZE(res) != 2 ||
		    !(PyUnicode_Check(PyTuple_GET_ITEM(res, 1)) || PyTuple_GET_ITEM(res, 1) == Py_None)) {
			PyObject *r = PyObject_Repr(res);
			const char *rs = r ? PyUnicode_AsUTF8(r) : NULL;
			if (!rs) PyErr_Clear();
			blog(b, BRICK_ERROR,
			     "invalid brick result: a tuple must be (value, port_name), got %.300s%s; packet dropped",
			     rs ? rs : "(unprintable)", rs && strlen(rs) > 300 ? "..." : "");
			Py_XDECREF(r);
			return -1;
		}
		value = PyTuple_GET_ITEM(res, 0);
		pobj = PyTuple_GET_ITEM(res, 1);
	}
	*port = out_port(b, pobj);
	if (!*port) {
		log_exception(b, BRICK_ERROR, "invalid brick result (packet dropped)", NULL, 0);
		return -1;
	}
	if (pyujo_encode_bare(value, &b->out) < 0) {
		log_exception(b, BRICK_ERROR, "cannot convert the result of process() to UJO (packet dropped)", NULL, 0);
		return -1;
	}
	return 1;
}

int brick_process(struct brick *b, const uint8_t *payload, size_t len, const char *port)
{
	if (!b || !b->tstate) return -1;
	PyEval_RestoreThread(b->tstate);
	b->tstate = NULL;
	int rc = -1, send = 0;
	const char *oport = NULL;
	PyObject *input = payload ? pyujo_decode_bare(payload, len, b->plain) : Py_NewRef(Py_None);
	if (!input) {
		log_exception(b, BRICK_ERROR, "cannot convert the input payload for the brick (packet dropped)", NULL, 0);
		goto out;
	}
	PyObject *pport = port_object(b, port ? port : "TRIGGER");
	if (!pport) {
		Py_DECREF(input);
		log_exception(b, BRICK_ERROR, "input port name", NULL, 0);
		goto out;
	}
	PyObject *args[2] = {input, pport};
	PyObject *res = PyObject_Vectorcall(b->process, args, 2, NULL);
	Py_DECREF(input);
	Py_DECREF(pport);
	if (!res) {
		if (PyErr_ExceptionMatches(ShuttingDown)) {
			PyErr_Clear();
			blog(b, BRICK_INFO, "process() ended: the runner is shutting down");
		} else {
			log_exception(b, BRICK_ERROR, "brick execution failed", NULL, 0);
		}
		goto out;
	}
	send = take_result(b, res, &oport);
	Py_DECREF(res);
	rc = send < 0 ? -1 : 0;
out:
	if (PyErr_Occurred()) PyErr_Clear();
	b->tstate = PyEval_SaveThread();
	if (send > 0 && b->def.emit) b->def.emit(b->def.ctx, oport, b->out.data, b->out.len, false);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Stop, unload                                                        */

void brick_stop(struct brick *b)
{
	if (!b) return;
	pthread_mutex_lock(&b->lock);
	if (b->alive && b->instance) {
		PyGILState_STATE gs = PyGILState_Ensure();
		PyObject *r = PyObject_CallMethod(b->runner, "stop", "O", b->instance);
		if (!r) log_exception(b, BRICK_ERROR, "stop_processing() failed", NULL, 0);
		Py_XDECREF(r);
		PyGILState_Release(gs);
	}
	pthread_mutex_unlock(&b->lock);
}

void brick_unload(struct brick *b)
{
	if (!b) return;
	pthread_mutex_lock(&b->lock);
	b->alive = false;
	pthread_mutex_unlock(&b->lock);
	PyEval_RestoreThread(b->tstate);
	b->tstate = NULL;
	int lingering = 0, others = 0;
	/* teardown(), then how many other Python threads are left */
	PyObject *r = PyObject_CallMethod(b->runner, "unload", "O", b->instance);
	if (!r || !PyArg_ParseTuple(r, "ii", &lingering, &others))
		log_exception(b, BRICK_ERROR, "unloading the brick failed", NULL, 0);
	Py_XDECREF(r);
	PyErr_Clear();
	flush_std();
	Py_CLEAR(b->process);
	Py_CLEAR(b->instance);
	Py_CLEAR(b->port_obj);
	Py_CLEAR(b->runner);
	pyujo_clear_caches();
	G = NULL; /* emit_new_packet from leftover threads now raises */
	if (lingering > 0) {
		/* Py_FinalizeEx would wait for them forever; the process exit ends them. */
		blog(b, BRICK_WARNING, "%d brick thread(s) still running after teardown(); not finalizing Python",
		     lingering);
		PyEval_SaveThread();
	} else {
		Py_FinalizeEx();
	}
	/* A leftover thread may be inside a callback with our strings: keep b. */
	if (others == 0) free_brick(b);
}
