package org.vfioorchestrator.hook;

import java.time.Duration;

/** Starts the post-start measurement in the background, holding none of libvirt's file descriptors. */
public interface MeasurementLauncher {
    void launch(String vm, Duration duration);
}
