package dev.handoff.bench.run;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Writes {@code results.md} (tables and targets) and the charts beside it. */
final class Report {

    private final List<Result> results;
    private final String header;

    Report(List<Result> results, String header) {
        this.results = results;
        this.header = header;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder md = new StringBuilder(header);
        idleTable(md);
        burstTable(md);
        churnTable(md);
        targets(md);
        notes(md);
        Files.writeString(dir.resolve("results.md"), md, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("results.tsv"), tsv(), StandardCharsets.UTF_8);
        chart(dir.resolve("fanout-p99.png"), "Fan-out p99 (ms) against open streams", "fan-out p99, ms", r -> r.fanoutP99);
        chart(dir.resolve("heap-per-stream.png"), "Heap per stream after GC (KiB) against open streams",
                "heap per stream, KiB", Result::heapPerStreamKiB);
    }

    /** Every measured field of every result, one row each, for whoever wants to plot or compare runs. */
    private String tsv() {
        List<Field> fields = Arrays.stream(Result.class.getDeclaredFields())
                .filter(f -> !Modifier.isStatic(f.getModifiers())).toList();
        StringBuilder tsv = new StringBuilder();
        tsv.append(fields.stream().map(Field::getName).collect(Collectors.joining("\t"))).append('\n');
        for (Result r : results) {
            tsv.append(fields.stream().map(f -> {
                try {
                    return String.valueOf(f.get(r)).replace('\t', ' ').replace('\n', ' ');
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }).collect(Collectors.joining("\t"))).append('\n');
        }
        return tsv.toString();
    }

    private List<Result> idle() {
        return results.stream().filter(r -> r.scenario.startsWith("idle-")).toList();
    }

    private void idleTable(StringBuilder md) {
        if (idle().isEmpty()) {
            return;
        }
        md.append("\n## Idle streams, then broadcast\n\n")
                .append("Streams opened at up to ").append(Scenario.RAMP_PER_SECOND).append("/s, measured idle, then 10 rounds ")
                .append("of 5 events of 256 B. Fan-out: POST sent → event read, over every (client, event).\n\n")
                .append("Publish: the server's time in its publish call (p99), then the bench's /publish round trip ")
                .append("(p99). With 10 rounds, p99 is the slowest round.\n\n")
                .append("| server | streams | open | fan-out p50 / p99 / max ms | all events | publish call / round trip "
                        + "p99 ms | /hello p50 / p99 ms | threads | heap/stream KiB | RSS/stream KiB |\n")
                .append("|---|---:|---:|---:|:---:|---:|---:|---:|---:|---:|\n");
        for (Result r : idle()) {
            md.append("| ").append(r.server).append(" | ").append(r.target).append(" | ").append(r.established)
                    .append(" | ").append(ms(r.fanoutP50)).append(" / ").append(ms(r.fanoutP99)).append(" / ")
                    .append(ms(r.fanoutMax)).append(" | ").append(r.rounds == 0 ? "–" : r.complete() ? "yes" : "**no**")
                    .append(" | ").append(ms(r.publishCallP99)).append(" / ").append(ms(r.publishP99)).append(" | ")
                    .append(ms(r.helloP50)).append(" / ")
                    .append(ms(r.helloP99)).append(" | ").append(r.threads < 0 ? "–" : r.threads).append(" | ")
                    .append(num(r.heapPerStreamKiB())).append(" | ").append(num(r.rssPerStreamKiB())).append(" |\n");
        }
    }

    private void burstTable(StringBuilder md) {
        List<Result> burst = results.stream().filter(r -> r.scenario.equals("burst-1k")).toList();
        if (burst.isEmpty()) {
            return;
        }
        md.append("\n## Bursts: CPU per delivered byte\n\n")
                .append("1,000 streams; 4 rounds of 512 events of 4 KiB (2 MiB per stream per round), every client reading. ")
                .append("Server CPU is the whole server process (container, pools, GC, JIT) over the counted rounds, from ")
                .append("`/stats` before the first and after the last; a delivery is one event read by one client.\n\n")
                .append("| server | healthy p99 ms | server CPU s | CPU µs per delivery | CPU ns per byte | all events |\n")
                .append("|---|---:|---:|---:|---:|:---:|\n");
        for (Result b : burst) {
            md.append("| ").append(b.server).append(" | ").append(ms(b.fanoutP99)).append(" | ")
                    .append(b.roundsCpuNanos < 0 ? "–" : num(b.roundsCpuNanos / 1e9)).append(" | ")
                    .append(num(b.cpuMicrosPerDelivery())).append(" | ").append(num(b.cpuNanosPerByte())).append(" | ")
                    .append(b.rounds == 0 ? "–" : b.complete() ? "yes" : "**no**").append(" |\n");
        }
        md.append("\n## Stalled readers\n\n")
                .append("1,000 streams; 4 rounds of 512 events of 4 KiB (2 MiB per stream per round). `stalled-1k`: every ")
                .append("tenth client reads its head and then nothing (16 KiB receive buffer). Latency of the healthy ")
                .append("clients only; heap and RSS after the rounds.\n\n")
                .append("| server | healthy p99 ms, no stalled | healthy p99 ms, 10% stalled | ratio | publish p99 ms "
                        + "call / round trip (stalled) | all events (stalled) | heap after GC MiB (stalled) | RSS MiB (stalled) |\n")
                .append("|---|---:|---:|---:|---:|:---:|---:|---:|\n");
        for (Result b : burst) {
            Optional<Result> s = find(b.server, "stalled-1k");
            md.append("| ").append(b.server).append(" | ").append(ms(b.fanoutP99)).append(" | ")
                    .append(s.map(x -> ms(x.fanoutP99)).orElse("–")).append(" | ")
                    .append(s.map(x -> num(x.fanoutP99 / b.fanoutP99)).orElse("–")).append(" | ")
                    .append(s.map(x -> ms(x.publishCallP99) + " / " + ms(x.publishP99)).orElse("–")).append(" | ")
                    .append(s.map(x -> x.rounds == 0 ? "–" : x.complete() ? "yes" : "**no**").orElse("–")).append(" | ")
                    .append(s.map(x -> mib(x.heapAfterGc)).orElse("–")).append(" | ")
                    .append(s.map(x -> mib(x.rss)).orElse("–")).append(" |\n");
        }
    }

    private void churnTable(StringBuilder md) {
        List<Result> churn = results.stream().filter(r -> r.scenario.equals("churn")).toList();
        if (churn.isEmpty()) {
            return;
        }
        md.append("\n## Connect/disconnect churn\n\n").append(Scenario.CHURN_CONCURRENT)
                .append(" clients, each opening a stream, reading its head and closing, for ")
                .append(Scenario.CHURN_LENGTH.toSeconds()).append(" s.\n\n")
                .append("| server | streams/s | still counted open 30 s later | threads after | heap after GC MiB |\n")
                .append("|---|---:|---:|---:|---:|\n");
        for (Result r : churn) {
            md.append("| ").append(r.server).append(" | ").append(num(r.churnPerSecond)).append(" | ")
                    .append(r.leftOpen < 0 ? "–" : r.leftOpen).append(" | ").append(r.threads < 0 ? "–" : r.threads)
                    .append(" | ").append(mib(r.heapAfterGc)).append(" |\n");
        }
    }

    /** The targets, each as a ratio measured in this run. */
    private void targets(StringBuilder md) {
        md.append("\n## Targets\n\n| target | measured | met |\n|---|---|:---:|\n");
        for (String handoff : List.of("handoff-tomcat", "handoff-jetty")) {
            find(handoff, "idle-10k").ifPresent(h -> {
                Optional<Result> best = results.stream().filter(r -> r.scenario.equals("idle-10k")
                        && !r.server.startsWith("handoff") && r.complete() && r.established == r.target)
                        .min((a, b) -> Double.compare(a.fanoutP99, b.fanoutP99));
                best.ifPresentOrElse(b -> target(md, handoff + ": 10k fan-out p99 ≤ 0.5× the best alternative ("
                        + b.server + ")", h.fanoutP99 / b.fanoutP99, "%.2f×", h.fanoutP99 <= 0.5 * b.fanoutP99),
                        () -> target(md, handoff + ": 10k fan-out p99 ≤ 0.5× the best alternative",
                                "no alternative held 10k streams with every event delivered", h.complete()));
                target(md, handoff + ": publish call p99 ≤ 5 ms at 10k (in the server; its CPU time "
                        + ms(h.publishCallCpuP99) + " ms; round trip " + ms(h.publishP99) + " ms)", h.publishCallP99,
                        "%.2f ms", h.publishCallP99 <= 5);
                String emitter = "emitter-" + handoff.substring("handoff-".length());
                String container = handoff.endsWith("tomcat") ? "Tomcat" : "Jetty";
                find(emitter, "idle-10k").ifPresent(e -> target(md, handoff + ": heap per stream ≤ 0.5× SseEmitter's ("
                        + container + ", 10k)", h.heapPerStreamKiB() / e.heapPerStreamKiB(), "%.2f×",
                        h.heapPerStreamKiB() <= 0.5 * e.heapPerStreamKiB()));
            });
            // From 10k on, not 1k: under a ramp the container's pool grows to its maximum (200) at any N.
            Optional<Result> small = find(handoff, "idle-10k");
            Optional<Result> large = find(handoff, "idle-19k").or(() -> find(handoff, "idle-10k"));
            if (small.isPresent() && large.isPresent() && small.get().threads > 0 && large.get().threads > 0) {
                int a = small.get().threads;
                int b = large.get().threads;
                target(md, handoff + ": live threads flat in N (10k → " + large.get().scenario.substring(5) + ")",
                        a + " → " + b, b <= a + 5);
            }
            find(handoff, "idle-19k").ifPresent(h -> {
                target(md, handoff + ": 19k streams held, every event delivered", h.established + " open, "
                        + (h.complete() ? "all events" : "events missing"), h.established >= h.target && h.complete());
                target(md, handoff + ": heap per stream ≤ 40 KiB (100k in 4 GiB)", h.heapPerStreamKiB(), "%.1f KiB",
                        h.heapPerStreamKiB() <= 40);
            });
            find(handoff, "burst-1k").ifPresent(b -> find("blocking-virtual", "burst-1k").ifPresent(v -> {
                target(md, handoff + ": CPU per delivered byte ≤ blocking-virtual's (bursts)", b.cpuNanosPerByte()
                        / v.cpuNanosPerByte(), "%.2f×", b.cpuNanosPerByte() <= v.cpuNanosPerByte());
                target(md, handoff + ": healthy p99 in bursts ≤ 0.8× blocking-virtual's", b.fanoutP99 / v.fanoutP99,
                        "%.2f×", b.fanoutP99 <= 0.8 * v.fanoutP99 && b.complete());
            }));
            find(handoff, "burst-1k").ifPresent(b -> find(handoff, "stalled-1k").ifPresent(s -> target(md, handoff
                    + ": healthy p99 with 10% stalled ≤ 1.2× without", s.fanoutP99 / b.fanoutP99, "%.2f×",
                    s.fanoutP99 <= 1.2 * b.fanoutP99 && s.complete())));
        }
    }

    private static void target(StringBuilder md, String what, double value, String format, boolean met) {
        target(md, what, String.format(Locale.ROOT, format, value), met);
    }

    private static void target(StringBuilder md, String what, String measured, boolean met) {
        md.append("| ").append(what).append(" | ").append(measured).append(" | ").append(met ? "yes" : "**no**")
                .append(" |\n");
    }

    private void notes(StringBuilder md) {
        List<Result> noted = results.stream().filter(r -> !r.note.isEmpty() || r.dropped > 0).toList();
        if (noted.isEmpty()) {
            return;
        }
        md.append("\n## Notes\n\n");
        for (Result r : noted) {
            md.append("- ").append(r.server).append(" · ").append(r.scenario).append(": ").append(r.note);
            if (r.dropped > 0) {
                md.append(r.note.isEmpty() ? "" : "; ").append(r.dropped).append(" healthy streams closed by the server");
            }
            md.append('\n');
        }
    }

    private Optional<Result> find(String server, String scenario) {
        return results.stream().filter(r -> r.server.equals(server) && r.scenario.equals(scenario)).findFirst();
    }

    private void chart(Path file, String title, String yLabel, ToDoubleFunction<Result> value) throws IOException {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (Result r : idle()) {
            double y = value.applyAsDouble(r);
            if (r.established > 0 && !Double.isNaN(y) && y > 0) {
                series.computeIfAbsent(r.server, XYSeries::new).add(r.established, y);
            }
        }
        if (series.isEmpty()) {
            return;
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "open streams", yLabel, data, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        LogarithmicAxis y = new LogarithmicAxis(yLabel + " (log)");
        y.setAllowNegativesFlag(false);
        plot.setRangeAxis(y);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2.5f));
        }
        plot.setRenderer(renderer);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 520);
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "–" : v < 10 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "–" : String.format(Locale.ROOT, "%.0f", bytes / 1048576.0);
    }
}
