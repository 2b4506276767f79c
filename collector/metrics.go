package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector's /metrics.
type Metrics struct {
	stored, batches, deadLettered, commitErrors prometheus.Counter
	readerRenewals                              prometheus.Counter
	duplicates, retries, sensorsRefused         *prometheus.CounterVec
	lag                                         *prometheus.GaugeVec
}

// NewMetrics registers the collector's metrics in reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "packetsleuth_collector_records_stored_total",
			Help: "Events written to every store (a redelivered one counts again; see duplicates)."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "packetsleuth_collector_batches_total",
			Help: "Batches written to the stores and committed."}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "packetsleuth_collector_dead_lettered_total",
			Help: "Messages that are not events or that a store rejected for good."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "packetsleuth_collector_commit_errors_total",
			Help: "Offset commits that failed (the messages are read again and dropped by event.id)."}),
		readerRenewals: prometheus.NewCounter(prometheus.CounterOpts{Name: "packetsleuth_collector_reader_renewals_total",
			Help: "Times the Kafka group reader stayed silent after errors (a broker restart) and was made anew."}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "packetsleuth_collector_duplicates_total",
			Help: "Events a store already held (redelivered after a crash or rebalance), by output."}, []string{"output"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "packetsleuth_collector_store_retries_total",
			Help: "Retries of a failing store, by output."}, []string{"output"}),
		sensorsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "packetsleuth_collector_sensors_refused_total",
			Help: "Stats reports of new sensors a store refused as its sensors table was full (max_sensors), by output; their events are stored."}, []string{"output"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "packetsleuth_collector_lag",
			Help: "Messages behind the end of the partition, at the last commit."}, []string{"topic", "partition"}),
	}
	if reg != nil {
		reg.MustRegister(m.stored, m.batches, m.deadLettered, m.commitErrors, m.readerRenewals, m.duplicates, m.retries, m.sensorsRefused, m.lag)
	}
	return m
}

func (m *Metrics) setLag(topic string, partition int, lag int64) {
	m.lag.WithLabelValues(topic, strconv.Itoa(partition)).Set(float64(max(lag, 0)))
}
