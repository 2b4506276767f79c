package schemas

// DBLogin is the login of a database connection (datasets
// packetsleuth.mysql and packetsleuth.pgsql): ECS has no database
// fields. One event per connection, emitted when the login outcome is
// known (or the connection ends); statements after the login are not
// read. Passwords, hashes and SASL exchanges are never read. The user is
// also in related.user; the outcome is event.outcome.
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
}
