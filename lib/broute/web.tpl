@now: /api/now (docs/http.md section 1), broute read --json's keys first; $X is value X of web.values(), null when unknown
{"power_w":$A,
"current_r_a":$B,
"current_t_a":$C,
"energy_kwh":$D,
"energy_rev_kwh":$E,
"today_kwh":$F,
"time":$G,
"today_rev_kwh":$H,
"month_kwh":$I,
"month_rev_kwh":$J,
"today_yen":$K,
"month_yen":$L,
"rssi_dbm":$M,
"age_s":$N,
"level":$O,
"contract_a":$P,
"link":$Q,
"module":$R,
"firmware":$S,
"uptime_s":$T}
@history: /api/history; $a the minutes, $b today's half hours, $c yesterday's
{"minutes":[$a],"today":[$b],"yesterday":[$c]}
@metrics: Prometheus text format 0.0.4; "?XY " keeps a line when X or Y is known, "!X " when X is not
?A # HELP broute_power_watts Power (E7); negative: sold.
?A # TYPE broute_power_watts gauge
?A broute_power_watts $A
?BC # HELP broute_current_amperes Current per phase (E8).
?BC # TYPE broute_current_amperes gauge
?B broute_current_amperes{phase="r"} $B
?C broute_current_amperes{phase="t"} $C
?D # HELP broute_energy_bought_kilowatt_hours_total The meter's counter bought (E0).
?D # TYPE broute_energy_bought_kilowatt_hours_total counter
?D broute_energy_bought_kilowatt_hours_total $D
?E # HELP broute_energy_sold_kilowatt_hours_total The meter's counter sold (E3).
?E # TYPE broute_energy_sold_kilowatt_hours_total counter
?E broute_energy_sold_kilowatt_hours_total $E
?FH # HELP broute_energy_today_kilowatt_hours Since 00:00.
?FH # TYPE broute_energy_today_kilowatt_hours gauge
?F broute_energy_today_kilowatt_hours{direction="bought"} $F
?H broute_energy_today_kilowatt_hours{direction="sold"} $H
?IJ # HELP broute_energy_month_kilowatt_hours Since the billing month began.
?IJ # TYPE broute_energy_month_kilowatt_hours gauge
?I broute_energy_month_kilowatt_hours{direction="bought"} $I
?J broute_energy_month_kilowatt_hours{direction="sold"} $J
?KL # HELP broute_cost_yen By the configured tariff.
?KL # TYPE broute_cost_yen gauge
?K broute_cost_yen{period="today"} $K
?L broute_cost_yen{period="month"} $L
?M # HELP broute_link_rssi_dbm Meter link RSSI.
?M # TYPE broute_link_rssi_dbm gauge
?M broute_link_rssi_dbm $M
# HELP broute_link_up 1: connected to the meter.
# TYPE broute_link_up gauge
broute_link_up $U
?N # HELP broute_reading_age_seconds Since the last reading.
?N # TYPE broute_reading_age_seconds gauge
?N broute_reading_age_seconds $N
# HELP broute_readings_total Fresh readings.
# TYPE broute_readings_total counter
broute_readings_total $V
# HELP broute_recoveries_total Meter link recoveries.
# TYPE broute_recoveries_total counter
broute_recoveries_total{kind="rejoin"} $W
broute_recoveries_total{kind="rescan"} $X
broute_recoveries_total{kind="reset"} $Y
broute_recoveries_total{kind="timeout"} $Z
?[ # HELP broute_free_heap_bytes gc.mem_free().
?[ # TYPE broute_free_heap_bytes gauge
?[ broute_free_heap_bytes $[
# HELP broute_uptime_seconds Since start.
# TYPE broute_uptime_seconds gauge
broute_uptime_seconds $T
# HELP broute_info Versions.
# TYPE broute_info gauge
?R broute_info{firmware=$S,module=$R} 1
!R broute_info{firmware=$S} 1
