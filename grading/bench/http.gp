# The HTTP benchmark's figures (grading/kweb/bench.py runs this):
#   gnuplot -e "dir='D'; metric='rps|p99'; tools='wrk kwload-k0 ...';
#               nservers=N; fmt='png|svg'; outfile='F'" grading/bench/http.gp
# One panel per load tool; in each, a line per server: requests/s or p99
# latency in ms against concurrency (log x; log y for latency). The data, D/METRIC-TOOL.dat, has a
# header row "conc SERVER..." and NaN where a point has no figure.
ntools = words(tools)
if (fmt eq 'svg') {
	set terminal svg size 480 * ntools, 420 dynamic font 'sans,11'
} else {
	set terminal pngcairo size 480 * ntools, 420 font 'sans,10'
}
set output outfile
set datafile missing 'NaN'
set logscale x 2
set xlabel 'concurrent connections'
set grid
set key top left font ',9'
if (metric eq 'rps') {
	set ylabel 'requests/s'
	set yrange [0:*]
	what = 'requests/s'
} else {
	set ylabel 'p99 latency (ms)'
	set logscale y 10
	set format y '%g'
	what = 'p99 latency'
}
set multiplot layout 1, ntools title what . ' vs concurrency (same guest, loopback)'
do for [t = 1:ntools] {
	tool = word(tools, t)
	set title tool
	plot for [i = 2:nservers + 1] dir . '/' . metric . '-' . tool . '.dat' \
		using 1:i with linespoints title columnheader(i)
}
unset multiplot
