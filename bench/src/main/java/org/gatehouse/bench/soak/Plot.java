package org.gatehouse.bench.soak;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/** The soak's samples as one PNG: a panel per series, time across, the warm-up and the end of the load marked. */
final class Plot {

    private record Panel(String title, String unit, double scale, ToDoubleFunction<Sampler.Sample> value, Color color) {
    }

    private static final List<Panel> PANELS = List.of(
            new Panel("RSS", "MB", 1e6, Sampler.Sample::rss, new Color(0x1565C0)),
            new Panel("heap used", "MB", 1e6, Sampler.Sample::heap, new Color(0x2E7D32)),
            new Panel("direct memory (Netty)", "MB", 1e6, Sampler.Sample::direct, new Color(0x6A1B9A)),
            new Panel("open file descriptors", "", 1, Sampler.Sample::fds, new Color(0xEF6C00)),
            new Panel("threads", "", 1, Sampler.Sample::threads, new Color(0x00838F)),
            new Panel("client connections open", "", 1, Sampler.Sample::connections, new Color(0xC62828)));

    private Plot() {
    }

    private static final int WIDTH = 1000;
    private static final int PANEL_HEIGHT = 150;
    private static final int TOP = 50;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;

    static void write(List<Sampler.Sample> samples, Path png, Duration load, long warmUpSeconds) throws IOException {
        int height = TOP + PANELS.size() * (PANEL_HEIGHT + 30) + 20;
        double maxT = samples.stream().mapToDouble(Sampler.Sample::seconds).max().orElse(1);
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Gatehouse soak: " + load.toSeconds() + " s of good and hostile traffic, then quiet "
                + "(grey: warm-up end and load end)", 20, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int p = 0; p < PANELS.size(); p++) {
            panel(g, PANELS.get(p), TOP + p * (PANEL_HEIGHT + 30), samples, maxT,
                    new double[]{warmUpSeconds, load.toSeconds()});
        }
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    /** One series in its own panel starting at {@code y0}, with grey lines at {@code marks} seconds. */
    private static void panel(Graphics2D g, Panel panel, int y0, List<Sampler.Sample> samples, double maxT,
            double[] marks) {
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = PANEL_HEIGHT - 18;
        double max = 0;
        for (Sampler.Sample s : samples) {
            double v = panel.value().applyAsDouble(s) / panel.scale();
            if (!Double.isNaN(v)) {
                max = Math.max(max, v);
            }
        }
        max = max <= 0 ? 1 : max * 1.1;
        g.setColor(Color.BLACK);
        g.drawString(panel.title() + (panel.unit().isEmpty() ? "" : " (" + panel.unit() + ")"), LEFT, y0 + 12);
        int plotTop = y0 + 18;
        g.setColor(new Color(0xEEEEEE));
        g.fillRect(LEFT, plotTop, plotWidth, plotHeight);
        g.setColor(Color.GRAY);
        for (double mark : marks) {
            int x = LEFT + (int) (mark / maxT * plotWidth);
            g.drawLine(x, plotTop, x, plotTop + plotHeight);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawString(String.format(Locale.ROOT, "%.0f", max), 10, plotTop + 10);
        g.drawString("0", 10, plotTop + plotHeight);
        g.drawString(String.format(Locale.ROOT, "%.0f s", maxT), WIDTH - RIGHT - 40, plotTop + PANEL_HEIGHT - 4);
        g.setColor(panel.color());
        g.setStroke(new BasicStroke(1.5f));
        int px = -1;
        int py = -1;
        for (Sampler.Sample s : samples) {
            double v = panel.value().applyAsDouble(s) / panel.scale();
            if (Double.isNaN(v)) {
                px = -1;
                continue;
            }
            int x = LEFT + (int) (s.seconds() / maxT * plotWidth);
            int y = plotTop + plotHeight - (int) (v / max * plotHeight);
            if (px >= 0) {
                g.drawLine(px, py, x, y);
            }
            px = x;
            py = y;
        }
    }
}
