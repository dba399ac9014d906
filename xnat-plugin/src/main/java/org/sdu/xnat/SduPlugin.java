package org.sdu.xnat;

import org.nrg.framework.annotations.XnatPlugin;

/**
 * The Secure DICOM Uploader plugin: the session page's SDU panel and actions-box entry
 * (Velocity templates), its script and style, site and project settings (spawner YAML) and
 * the bundled trial protocols. The work itself is done by the SDU command wrappers
 * launched through XNAT's Container Service; this class only declares the plugin, and
 * XNAT's annotation processor writes {@code META-INF/xnat/sdu-plugin.properties} from it.
 */
@XnatPlugin(value = SduPlugin.ID, name = "Secure DICOM Uploader",
            description = "Trial choice, validation, relabelling, anonymisation review, approval and upload "
                          + "of radiotherapy DICOM sessions through the SDU container commands.")
public class SduPlugin {
    /** The plugin's ID: the config service tool name and the prefix of its settings. */
    public static final String ID = "sdu";
}
