/**
 * Built-in PostgreSQL functions the destructive preset lets through without approval: side-effect-free
 * (or, like nextval, with an effect nobody needs to approve), and unable to reach files, the network,
 * other sessions or server settings. Anything else — user functions, extensions, and the dangerous
 * built-ins below — needs approval under the preset unless the policy's `allowFunctions` lists it.
 *
 * A name counts only unqualified or qualified with pg_catalog: `evil.lower()` is not `lower()`.
 */
export const SAFE_BUILTIN_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
  'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'percentile_cont', 'percentile_disc', 'mode', 'corr', 'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'any_value',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // strings
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'substr', 'substring',
  'position', 'strpos', 'trim', 'btrim', 'ltrim', 'rtrim', 'lpad', 'rpad', 'concat', 'concat_ws', 'replace', 'translate', 'repeat',
  'reverse', 'left', 'right', 'split_part', 'string_to_array', 'array_to_string', 'regexp_replace', 'regexp_match', 'regexp_matches',
  'regexp_split_to_array', 'regexp_split_to_table', 'regexp_like', 'regexp_count', 'regexp_instr', 'regexp_substr', 'format', 'quote_ident',
  'quote_literal', 'quote_nullable', 'md5', 'sha224', 'sha256', 'sha384', 'sha512', 'encode', 'decode', 'ascii', 'chr', 'to_hex',
  'starts_with', 'overlay', 'normalize', 'unistr', 'convert_from', 'convert_to', 'string_to_table', 'like_escape',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'mod', 'power', 'pow', 'sqrt', 'cbrt', 'exp', 'ln', 'log', 'log10', 'sign', 'pi',
  'degrees', 'radians', 'div', 'gcd', 'lcm', 'greatest', 'least', 'width_bucket', 'scale', 'factorial', 'random', 'random_normal',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'numeric', 'int4', 'int8', 'float8', 'text',
  // date and time
  'now', 'current_timestamp', 'current_date', 'current_time', 'localtime', 'localtimestamp', 'clock_timestamp', 'statement_timestamp',
  'transaction_timestamp', 'timeofday', 'date_trunc', 'date_part', 'extract', 'date_bin', 'age', 'make_date', 'make_time',
  'make_timestamp', 'make_timestamptz', 'make_interval', 'to_timestamp', 'to_date', 'to_char', 'to_number', 'isfinite',
  'justify_days', 'justify_hours', 'justify_interval', 'timezone', 'date_add', 'date_subtract', 'overlaps',
  // conditionals, types, misc
  'coalesce', 'nullif', 'num_nulls', 'num_nonnulls', 'gen_random_uuid', 'uuid_generate_v4', 'pg_typeof', 'format_type',
  'generate_series', 'generate_subscripts', 'unnest', 'cardinality', 'array_length', 'array_lower', 'array_upper', 'array_ndims',
  'array_dims', 'array_position', 'array_positions', 'array_append', 'array_prepend', 'array_cat', 'array_remove', 'array_replace',
  'array_fill', 'trim_array', 'array_sample', 'array_shuffle',
  'row_to_json', 'to_json', 'to_jsonb', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array',
  'json_object', 'jsonb_object', 'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each', 'json_each_text',
  'jsonb_each_text', 'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text', 'json_typeof',
  'jsonb_typeof', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'jsonb_set', 'jsonb_insert', 'jsonb_strip_nulls', 'json_strip_nulls', 'jsonb_pretty', 'jsonb_path_query', 'jsonb_path_exists',
  'jsonb_path_match', 'jsonb_path_query_array', 'jsonb_path_query_first', 'json_populate_record', 'jsonb_populate_record',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset', 'jsonb_object_keys', 'json_object_keys',
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'ts_rank_cd', 'ts_headline',
  'nextval', 'currval', 'lastval',
  'current_user', 'session_user', 'current_schema', 'current_schemas', 'current_database', 'current_catalog', 'version',
  'current_setting', 'pg_backend_pid', 'inet_client_addr', 'inet_server_addr', 'txid_current', 'pg_current_xact_id',
  'has_table_privilege', 'has_schema_privilege', 'has_column_privilege', 'has_database_privilege', 'has_function_privilege',
  'pg_get_viewdef', 'pg_get_indexdef', 'pg_get_constraintdef', 'pg_get_functiondef', 'pg_get_triggerdef', 'pg_get_expr',
  'pg_get_userbyid', 'pg_table_size', 'pg_total_relation_size', 'pg_relation_size', 'pg_indexes_size', 'pg_database_size',
  'pg_size_pretty', 'obj_description', 'col_description', 'pg_table_is_visible', 'pg_get_keywords', 'pg_encoding_to_char',
  'pg_postmaster_start_time', 'pg_is_in_recovery', 'quote_all_identifiers',
]);

/**
 * Built-ins that reach outside the statement: files, programs, other sessions, server settings, remote
 * servers, large objects, advisory state, or time itself. Never on the safe list (a test checks it).
 */
export const DANGEROUS_FUNCTIONS: ReadonlySet<string> = new Set([
  'pg_sleep', 'pg_sleep_for', 'pg_sleep_until',
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_ls_logdir', 'pg_ls_waldir', 'pg_ls_tmpdir', 'pg_ls_archive_statusdir',
  'lo_import', 'lo_export', 'lo_unlink', 'lo_from_bytea', 'lo_put', 'lo_create', 'lo_open', 'lowrite',
  'dblink', 'dblink_exec', 'dblink_connect', 'dblink_connect_u', 'dblink_send_query',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote', 'pg_switch_wal',
  'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop',
  'set_config', 'pg_advisory_lock', 'pg_advisory_xact_lock', 'pg_try_advisory_lock',
  'pg_create_logical_replication_slot', 'pg_create_physical_replication_slot', 'pg_drop_replication_slot',
  'pg_logical_emit_message', 'pg_notify', 'setval', 'pg_file_write', 'pg_file_unlink', 'pg_file_rename',
  'query_to_xml', 'query_to_xml_and_xmlschema', 'table_to_xml', 'cursor_to_xml', 'database_to_xml', 'schema_to_xml',
]);

/** Whether a called function (as written: "lower", "pg_catalog.now", "s.f") is a safe built-in. */
export function isSafeBuiltin(name: string): boolean {
  const parts = name.toLowerCase().split('.');
  if (parts.length > 2) return false;
  if (parts.length === 2 && parts[0] !== 'pg_catalog') return false;
  const fn = parts[parts.length - 1];
  return SAFE_BUILTIN_FUNCTIONS.has(fn) && !DANGEROUS_FUNCTIONS.has(fn);
}
