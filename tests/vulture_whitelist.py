"""Names vulture reports as unused that something calls or reads by name
(tox -e lint; see [tool.vulture] in pyproject.toml). Each with the reason."""

# Exit codes: documented in `v2m --help`, named for readers of the CLI code.
_.EXIT_OK, _.EXIT_ERROR, _.EXIT_USAGE
# click calls it to list the commands in `v2m --help`.
_.format_commands
# reprlib.Repr's limits, read by reprlib itself.
_.maxdict, _.maxlevel, _.maxlist, _.maxtuple, _.maxlong, _.maxother, _.maxstring
# urllib.request calls the handler's redirect_request.
_.redirect_request
# PyAV reads the attributes set on its streams and frames.
_.bit_rate, _.sample_rate, _.pts, _.pix_fmt
# onnxruntime's SessionOptions, read when the session is made.
_.inter_op_num_threads, _.intra_op_num_threads, _.enable_cpu_mem_arena, _.log_severity_level
# uvicorn's Server polls should_exit.
_.should_exit
# http.client calls the connection's _create_connection.
_._create_connection
# pytest reads module-level pytestmark and conftest's collect_ignore.
_.pytestmark, _.collect_ignore
# Fixtures asked for their side effect (a daemon running, a display set).
_.dictation_daemon, _.cue_daemon, _.x_display
# http.server calls these by name.
_.daemon_threads, _.log_message, _.do_GET, _.do_HEAD, _.close_connection
# Unpacked for its place in the tuple; the test checks the other fields.
_.notified
