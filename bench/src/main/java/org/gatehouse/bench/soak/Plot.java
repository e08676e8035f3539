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

    static void write(List<Sampler.Sample> samples, Path png, Duration load, long warmUpSeconds) throws IOException {
        int width = 1000;
        int panelHeight = 150;
        int top = 50;
        int left = 90;
        int right = 30;
        int height = top + PANELS.size() * (panelHeight + 30) + 20;
        double maxT = samples.stream().mapToDouble(Sampler.Sample::seconds).max().orElse(1);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Gatehouse soak: " + load.toSeconds() + " s of good and hostile traffic, then quiet "
                + "(grey: warm-up end and load end)", 20, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int plotWidth = width - left - right;
        for (int p = 0; p < PANELS.size(); p++) {
            Panel panel = PANELS.get(p);
            int y0 = top + p * (panelHeight + 30);
            double max = 0;
            for (Sampler.Sample s : samples) {
                double v = panel.value().applyAsDouble(s) / panel.scale();
                if (!Double.isNaN(v)) {
                    max = Math.max(max, v);
                }
            }
            max = max <= 0 ? 1 : max * 1.1;
            g.setColor(Color.BLACK);
            g.drawString(panel.title() + (panel.unit().isEmpty() ? "" : " (" + panel.unit() + ")"), left, y0 + 12);
            int plotTop = y0 + 18;
            g.setColor(new Color(0xEEEEEE));
            g.fillRect(left, plotTop, plotWidth, panelHeight - 18);
            g.setColor(Color.GRAY);
            for (double mark : new double[] {warmUpSeconds, load.toSeconds()}) {
                int x = left + (int) (mark / maxT * plotWidth);
                g.drawLine(x, plotTop, x, plotTop + panelHeight - 18);
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.0f", max), 10, plotTop + 10);
            g.drawString("0", 10, plotTop + panelHeight - 18);
            g.drawString(String.format(Locale.ROOT, "%.0f s", maxT), width - right - 40, plotTop + panelHeight - 4);
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
                int x = left + (int) (s.seconds() / maxT * plotWidth);
                int y = plotTop + panelHeight - 18 - (int) (v / max * (panelHeight - 18));
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
        }
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }
}
