# Drawn by ev_bench --chart from performance.dat (one row per N); run: gnuplot performance.gp in this directory.
set terminal svg size 1100,800 dynamic noenhanced font 'sans,11'
set output 'performance.svg'
set datafile missing 'NaN'
set logscale x
set xlabel 'CPs (N)'
set grid
set key left top
set yrange [0:*]
set multiplot layout 2,2 title 'EV_Central on the 2-core machine: cost against the number of CPs'
set title 'Resident memory (MiB)'
plot 'performance.dat' using 1:2 with linespoints title 'EV_Central', '' using 1:3 with linespoints title 'bare ROUTER + MessagePack loop'
set title 'Resident memory per connected CP (KiB)'
plot 'performance.dat' using 1:11 with linespoints title 'EV_Central', '' using 1:12 with linespoints title 'bare loop'
set title 'CPU under load (% of one core)'
plot 'performance.dat' using 1:4 with linespoints title 'EV_Central', '' using 1:5 with linespoints title 'ev_fleet (the simulator)'
set title 'p99 latency (ms, log scale)'
set logscale y
set yrange [*:*]
plot 'performance.dat' using 1:6 with linespoints title 'request -> authorisation', '' using 1:7 with linespoints title 'telemetry -> progress'
unset multiplot
