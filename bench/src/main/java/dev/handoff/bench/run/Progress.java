package dev.handoff.bench.run;

/** The one progress line: which server and scenario run, and how far it is; at most one line every 2 s. */
final class Progress {

    private final long start = System.nanoTime();
    private final int total;
    private int current;
    private String label = "";
    private long lastPrinted;

    Progress(int total) {
        this.total = total;
    }

    void next(String server, String scenario) {
        current++;
        label = server + " · " + scenario;
        print("starting");
    }

    void status(String what) {
        long now = System.nanoTime();
        if (now - lastPrinted >= 2_000_000_000L) {
            print(what);
        }
    }

    void print(String what) {
        lastPrinted = System.nanoTime();
        long s = (lastPrinted - start) / 1_000_000_000L;
        System.out.printf("[bench %d/%d %02d:%02d] %s: %s%n", current, total, s / 60, s % 60, label, what);
    }
}
