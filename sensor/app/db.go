package app

import (
	"cmp"
	"strconv"

	pmysql "github.com/packetsleuth/packetsleuth/parsers/mysql"
	ppgsql "github.com/packetsleuth/packetsleuth/parsers/pgsql"
	"github.com/packetsleuth/packetsleuth/parsers/sqlverb"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// emitMySQL maps a MySQL login to an event of dataset packetsleuth.mysql.
func (st *state) emitMySQL(l *pmysql.Login) {
	ev := st.dbEvent(schemas.DatasetMySQL, "mysql", l.Limited)
	x := &ev.Sensor.MySQL
	x.ServerVersion, x.User, x.Database = l.ServerVersion, l.User, l.Database
	x.Client = cmp.Or(l.Client, l.Program)
	x.AuthMethod = cmp.Or(l.SwitchPlugin, l.ClientPlugin, l.ServerPlugin)
	x.TLSRequested, x.TLS = l.TLS, l.TLS
	if l.ErrorCode != 0 {
		x.ErrorCode = strconv.Itoa(l.ErrorCode)
	}
	x.ErrorMessage = l.ErrorMessage
	st.dbOutcome(ev, x, l.Result, l.Notes)
}

// emitPgSQL maps a PostgreSQL start-up to an event of dataset packetsleuth.pgsql.
func (st *state) emitPgSQL(l *ppgsql.Login) {
	ev := st.dbEvent(schemas.DatasetPgSQL, "pgsql", l.Limited)
	x := &ev.Sensor.PgSQL
	x.ServerVersion, x.User, x.Database, x.Client = l.ServerVersion, l.User, l.Database, l.Application
	if n := len(l.AuthMethods); n > 0 {
		// The last method asked for is the one the login went through
		// (trust is only named when nothing else was asked); for SASL,
		// the last mechanism the server offers (SCRAM-SHA-256 after
		// SCRAM-SHA-256-PLUS): the client's choice is not read.
		x.AuthMethod = l.AuthMethods[n-1]
		if x.AuthMethod == "trust" && n > 1 {
			x.AuthMethod = l.AuthMethods[n-2]
		}
	}
	x.TLSRequested, x.TLS, x.Cancel = l.SSLRequested, l.SSLAccepted, l.Cancel
	x.ErrorCode, x.ErrorMessage = l.SQLState, l.ErrorMessage
	st.dbOutcome(ev, x, l.Result, l.Notes)
}

func (st *state) dbEvent(dataset, proto string, limited bool) *schemas.Event {
	ev := st.a.newEvent(st, dataset, st.f.First())
	ev.Network.Protocol = proto
	if limited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: "+proto+" login messages split across segments not read")
	}
	return ev
}

func (st *state) dbOutcome(ev *schemas.Event, x *schemas.DBLogin, result string, notes []string) {
	x.LoginResult = result
	switch {
	case result != "":
		ev.Event.Outcome = result
	case !x.Cancel:
		x.LoginResult = "unknown"
	}
	if x.User != "" {
		ev.Related.User = one(&st.a.scr.users, x.User)
	}
	ev.Sensor.Notes = notes
	st.a.emit(ev)
}

// emitMySQLStatements maps a connection's statement counts to an event of
// dataset packetsleuth.mysql, action statements.
func (st *state) emitMySQLStatements(l *pmysql.Login, c *sqlverb.Counts) {
	ev := st.dbEvent(schemas.DatasetMySQL, "mysql", false)
	x := &ev.Sensor.MySQL
	x.ServerVersion, x.User, x.Database = l.ServerVersion, l.User, l.Database
	st.dbStatements(ev, x, c)
}

// emitPgSQLStatements is emitMySQLStatements for PostgreSQL.
func (st *state) emitPgSQLStatements(l *ppgsql.Login, c *sqlverb.Counts) {
	ev := st.dbEvent(schemas.DatasetPgSQL, "pgsql", false)
	x := &ev.Sensor.PgSQL
	x.ServerVersion, x.User, x.Database = l.ServerVersion, l.User, l.Database
	st.dbStatements(ev, x, c)
}

func (st *state) dbStatements(ev *schemas.Event, x *schemas.DBLogin, c *sqlverb.Counts) {
	ev.Event.Action = "statements"
	ev.Timestamp = st.f.Last()
	if c.Limited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: "+ev.Network.Protocol+" statements not counted")
	}
	if c.DBsLimited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: "+ev.Network.Protocol+" database names not kept")
	}
	x.Statements, x.StatementsUnsplit = c.Total, c.Unsplit
	x.StatementsIncomplete = c.Stopped || c.Unsplit > 0
	c.Each(func(verb string, n int) {
		x.StatementVerbs = append(x.StatementVerbs, verb)
		x.StatementCounts = append(x.StatementCounts, schemas.DBStatementCount{Verb: verb, Count: n})
	})
	x.DatabasesUsed = c.Databases
	if c.MoreDBs > 0 {
		ev.Sensor.Notes = append(ev.Sensor.Notes, "more databases used than listed: "+strconv.Itoa(c.MoreDBs)+" switches not named")
	}
	if x.User != "" {
		ev.Related.User = one(&st.a.scr.users, x.User)
	}
	st.a.emit(ev)
}
