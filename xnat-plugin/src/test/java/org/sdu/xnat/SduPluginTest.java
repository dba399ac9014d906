package org.sdu.xnat;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.io.InputStream;
import java.util.Properties;

import org.junit.Test;
import org.nrg.framework.annotations.XnatPlugin;

public class SduPluginTest {
    @Test
    public void declaresThePlugin() {
        XnatPlugin plugin = SduPlugin.class.getAnnotation(XnatPlugin.class);
        assertNotNull("@XnatPlugin is kept at run time", plugin);
        assertEquals("sdu", plugin.value());
        assertEquals("no namespace: the properties sit in META-INF/xnat/ itself", "", plugin.namespace());
    }

    @Test
    public void annotationProcessorWroteThePropertiesXnatLoads() throws Exception {
        try (InputStream in = SduPlugin.class.getResourceAsStream("/META-INF/xnat/sdu-plugin.properties")) {
            assertNotNull("META-INF/xnat/sdu-plugin.properties is generated at compile time", in);
            Properties props = new Properties();
            props.load(in);
            assertEquals(SduPlugin.class.getName(), props.getProperty(XnatPlugin.PLUGIN_CLASS));
            assertEquals("sdu", props.getProperty(XnatPlugin.PLUGIN_ID));
        }
    }
}
