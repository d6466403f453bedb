# The Fibonacci benchmark's figure (grading/kweb/benchfib.py runs this):
#   gnuplot -e "datafile='D/fib.dat'; outfile='F'; rmin=R" grading/bench/fib.gp
# Two panels against N (log-log): the times of kweb (the server's total,
# its binary computation and its decimal conversion, and the client's
# end-to-end median) and GMP's in user space; then the ratios kweb / GMP.
# The data has a header row and NaN where a point has no figure; its
# columns: N, kweb total, calc, dec, GMP total, client median (ms), then
# the ratios total, calc/fib, dec/str. rmin (0.5 unless given): the
# ratio axis starts there, below 1 (as fast as GMP) and every ratio.
if (!exists('rmin')) rmin = 0.5
set terminal pngcairo size 1100, 460 font 'sans,10'
set output outfile
set datafile missing 'NaN'
set grid
set logscale x 10
set autoscale xfix
set offsets graph 0.04, graph 0.04, 0, 0
set format x '10^{%L}'
set xlabel 'N'
set key bottom right font ',9'
set multiplot layout 1, 2 title 'F(N): kweb (stage 7, in the kernel) and GMP (user space), in the same guest'
set title 'time for F(N) in decimal'
set logscale y 10
set format y '%g'
set ylabel 'time (ms)'
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb '#c0392b' title 'kweb total (server)', \
	'' using 1:3 with linespoints pt 5 lc rgb '#e67e22' title 'kweb calc (binary)', \
	'' using 1:4 with linespoints pt 9 lc rgb '#8e44ad' title 'kweb dec (to decimal)', \
	'' using 1:5 with linespoints lw 2 pt 7 lc rgb '#2471a3' title 'GMP total', \
	'' using 1:6 with linespoints dt 2 pt 6 lc rgb '#555555' title 'client end-to-end (median)'
set title 'kweb / GMP'
set ylabel 'ratio (x, log)'
set key top right font ',9'
set yrange [rmin:*]
plot datafile using 1:7 with linespoints lw 2 pt 7 lc rgb '#c0392b' title 'total: kweb / GMP', \
	'' using 1:8 with linespoints pt 5 lc rgb '#e67e22' title 'calc / mpz\_fib\_ui', \
	'' using 1:9 with linespoints pt 9 lc rgb '#8e44ad' title 'dec / mpz\_get\_str', \
	3 with lines dt 2 lc rgb 'gray40' title 'target at 10^6: 3x', \
	1 with lines dt 3 lw 1.5 lc rgb 'gray30' title 'as fast as GMP'
unset multiplot
