package org.vfioorchestrator.measure;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report as a PNG, drawn with XChart off screen ({@code java.awt.headless}): a probe's
 * latency histogram on a log scale; for a VM, the guest's histogram when it was measured inside
 * and the vCPU threads' run-queue wait over time. The caller writes the bytes through HostFs.
 */
public final class ReportPlot {
    static final int WIDTH = 1000;
    static final int HEIGHT = 450;

    private ReportPlot() {
    }

    /** The PNG bytes, or empty when there is nothing to draw (no windows, no samples). */
    public static Optional<byte[]> render(MeasurementReport r) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        List<XYChart> charts = new ArrayList<>();
        r.probeResult().flatMap(p -> histogram(p, p.tool() + " on CPUs " + p.cpus(), "CPU")).ifPresent(charts::add);
        r.guestResult().flatMap(g -> histogram(g.latency(), g.latency().tool() + " inside the guest of " + r.subject()
                + ", its CPUs " + g.latency().cpus(), "vCPU")).ifPresent(charts::add);
        r.vmMeasurement().flatMap(ReportPlot::waitOverTime).ifPresent(charts::add);
        if (charts.isEmpty()) {
            return Optional.empty();
        }
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT * charts.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), 0, i * HEIGHT, null);
            }
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new IllegalStateException("PNG encoding failed", e);
        }
        return Optional.of(out.toByteArray());
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
        Styler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setAntiAlias(true);
        chart.getStyler().setMarkerSize(4);
        return chart;
    }

    /** Histogram bins per decade of latency: fine enough to see a tail, coarse enough to read. */
    static final int BINS_PER_DECADE = 5;
    /** Latencies below this (µs) are drawn in the first bin; a log axis has no zero. */
    static final double SMALLEST_US = 0.01;

    /**
     * Samples per latency bin, one line per CPU, both axes on a log scale: a probe's latencies
     * span from tens of nanoseconds to milliseconds, and the rare long ones are what matter.
     * The tool's buckets are summed into log-spaced bins, each drawn at its lower edge.
     */
    static Optional<XYChart> histogram(ProbeResult p, String what, String cpuLabel) {
        boolean any = p.perCpu().stream().anyMatch(c -> !c.histogram().isEmpty());
        if (!any) {
            return Optional.empty();
        }
        XYChart chart = chart(what + ", " + p.seconds() + " s: latency histogram",
                "latency (µs, log scale)", "samples (log scale)");
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        for (CpuLatency c : p.perCpu()) {
            java.util.TreeMap<Integer, Long> bins = new java.util.TreeMap<>();
            for (Map.Entry<Double, Long> e : c.histogram().entrySet()) {
                bins.merge(bin(e.getKey()), e.getValue(), Long::sum);
            }
            if (c.overflows() > 0) {
                bins.merge(bin(c.maxUs()), c.overflows(), Long::sum);
            }
            if (bins.isEmpty()) {
                continue;
            }
            double[] xs = new double[bins.size()];
            double[] ys = new double[xs.length];
            int i = 0;
            for (Map.Entry<Integer, Long> e : bins.entrySet()) {
                xs[i] = Math.pow(10, (double) e.getKey() / BINS_PER_DECADE);
                ys[i++] = e.getValue();
            }
            XYSeries s = chart.addSeries(String.format(java.util.Locale.ROOT, "%s %d (p99 %s, p99.9 %s, max %s µs)",
                    cpuLabel, c.cpu(), us(c.p99Us()), us(c.p999Us()), us(c.maxUs())), xs, ys);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return Optional.of(chart);
    }

    static int bin(double us) {
        return (int) Math.floor(Math.log10(Math.max(us, SMALLEST_US)) * BINS_PER_DECADE + 1e-9);
    }

    private static String us(double v) {
        return v >= 100 ? String.format(java.util.Locale.ROOT, "%.0f", v) : String.format(java.util.Locale.ROOT, "%.2f", v);
    }

    /** Each vCPU's run-queue wait per one-second window. */
    static Optional<XYChart> waitOverTime(VmMeasurement v) {
        if (v.seconds() == 0 || v.vcpus().isEmpty()) {
            return Optional.empty();
        }
        double worst = v.vcpus().stream().mapToDouble(VmMeasurement.Vcpu::worstWaitUsPerSec).max().orElse(0);
        boolean ms = worst >= 10_000; // a starved vCPU waits milliseconds per second: say so in ms
        XYChart chart = chart("VM " + v.vm() + ": run-queue wait of each vCPU thread, per second",
                "time (s)", "run-queue wait (" + (ms ? "ms" : "µs") + " per s)");
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setYAxisDecimalPattern("#,##0.##");
        chart.getStyler().setXAxisDecimalPattern("0");
        for (VmMeasurement.Vcpu c : v.vcpus()) {
            List<Double> w = c.waitUsPerSecond();
            double[] xs = new double[w.size()];
            double[] ys = new double[w.size()];
            for (int i = 0; i < w.size(); i++) {
                xs[i] = i + 1;
                ys[i] = ms ? w.get(i) / 1000 : w.get(i);
            }
            chart.addSeries(c.name() + " (tid " + c.tid() + ")", xs, ys);
        }
        return Optional.of(chart);
    }
}
