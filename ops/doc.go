// Package ops holds what operators load beside moderationd: a Grafana
// dashboard (grafana/moderation.json) and Prometheus alert rules
// (prometheus/alerts.yml). It has no code; its tests check that both load,
// that every metric they name is one the running service exposes, and that
// each alert fires on the history it is meant for and not on its near miss.
package ops
