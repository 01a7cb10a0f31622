package org.vfioorchestrator.hook;

import org.vfioorchestrator.profile.Profile.MeasurePolicy;

/** Starts the post-start measurement in the background, holding none of libvirt's file descriptors. */
public interface MeasurementLauncher {
    void launch(String vm, MeasurePolicy policy);
}
