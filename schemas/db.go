package schemas

// DBLogin is the login of a database connection (datasets
// packetsleuth.mysql and packetsleuth.pgsql): ECS has no database
// fields. One event per connection, emitted when the login outcome is
// known (or the connection ends). After a successful login the client's
// statements are counted by verb (first keyword of each statement, a
// query of several split as the server splits it), and a second event,
// event.action "statements", carries the counts at the end of the
// connection, with the login's user, database and server version but no
// login_result. Statement text, passwords, hashes and SASL exchanges are
// never kept. The user is also in related.user; the outcome is event.outcome.
type DBLogin struct {
	// Server software version (MySQL greeting; PostgreSQL server_version parameter). Example: 8.0.35
	ServerVersion string `json:"server_version,omitempty" expr:"server_version"`
	// User name the client logs in as. Example: admin
	User string `json:"user,omitempty" expr:"user"`
	// Database (schema) the client asks for. Example: inventory
	Database string `json:"database,omitempty" expr:"database"`
	// Client software: MySQL connect attributes (_client_name _client_version), PostgreSQL application_name. Example: libmysql 8.0.35
	Client string `json:"client,omitempty" expr:"client"`
	// Authentication method: the MySQL auth plugin finally used (after an auth switch), the PostgreSQL method the server asked for (trust, cleartext, md5; for SASL the last mechanism it offers, as the client's choice is not read). Example: caching_sha2_password
	AuthMethod string `json:"auth_method,omitempty" expr:"auth_method"`
	// Login outcome: success, failure, or unknown (the connection ended or went to TLS first). Example: failure
	LoginResult string `json:"login_result,omitempty" expr:"login_result"`
	// Server error: MySQL error number or PostgreSQL SQLSTATE. Example: 28P01
	ErrorCode string `json:"error_code,omitempty" expr:"error_code"`
	// Server error message (at most 256 bytes). Example: Access denied for user 'dsm1'@'10.21.179.53' (using password: YES)
	ErrorMessage string `json:"error_message,omitempty" expr:"error_message"`
	// The client asked for TLS (SSL request). Example: true
	TLSRequested bool `json:"tls_requested,omitempty" expr:"tls_requested"`
	// The connection went on as TLS, inspected as such (its own packetsleuth.tls event); the login is inside it. Example: true
	TLS bool `json:"tls,omitempty" expr:"tls"`
	// A PostgreSQL CancelRequest, not a login. Example: false
	Cancel bool `json:"cancel,omitempty" expr:"cancel"`
	// Statements the client sent after the login (MySQL COM_QUERY and COM_STMT_PREPARE, PostgreSQL Query and Parse), on the statements event. Example: 42
	Statements int `json:"statements,omitempty" expr:"statements"`
	// Verbs (first keywords, upper case) of those statements (each of a query of several), in the order they first appeared; OTHER for a word not in the list, UNKNOWN when none was found in the first 512 bytes. Example: ["SELECT", "DROP"]
	StatementVerbs []string `json:"statement_verbs,omitempty" expr:"statement_verbs"`
	// Statements per verb. Example: [{"verb": "SELECT", "count": 40}, {"verb": "DROP", "count": 2}]
	StatementCounts []DBStatementCount `json:"statement_counts,omitempty" expr:"statement_counts"`
	// Databases the client switched to (MySQL COM_INIT_DB), the first 8. Example: ["billing"]
	DatabasesUsed []string `json:"databases_used,omitempty" expr:"databases_used"`
	// The counts are a lower bound: the statements were not read to the end of the connection (a gap in the client's stream, or a message that could not be framed), or some queries were not split to their end (statements_unsplit). Example: true
	StatementsIncomplete bool `json:"statements_incomplete,omitempty" expr:"statements_incomplete"`
	// Queries whose statements may not all be counted: text longer than the 512 bytes held (a statement may follow out of sight), text not read (MySQL query attributes with parameters), or a backslash in a string that would end it elsewhere on a server set otherwise (MySQL NO_BACKSLASH_ESCAPES, PostgreSQL standard_conforming_strings off). Example: 3
	StatementsUnsplit int `json:"statements_unsplit,omitempty" expr:"statements_unsplit"`
}

// DBStatementCount is how many statements of one verb a connection sent.
type DBStatementCount struct {
	// Statement verb (first keyword). Example: SELECT
	Verb string `json:"verb,omitempty" expr:"verb"`
	// Statements of that verb. Example: 40
	Count int `json:"count,omitempty" expr:"count"`
}
