/*
 * SDU settings form (site and project settings pages, META-INF/xnat/spawner/sdu/*.yaml).
 * Stored as one JSON document in XNAT's config service: tool "sdu", path "settings", site-wide
 * (/data/config/sdu/settings) or per project (/data/projects/{p}/config/sdu/settings), which the
 * session panel reads (project over site). A project may also store its own trial list as
 * "sdu/protocols" ({"protocols": [...]}, the shape of the bundled index.json).
 */
var XNAT = getObject(XNAT || {});

(function () {
    'use strict';
    XNAT.plugin = getObject(XNAT.plugin || {});
    var sdu = XNAT.plugin.sdu = getObject(XNAT.plugin.sdu || {});

    var FIELDS = [
        {name: 'remote_url', label: 'Remote (trial) XNAT URL', site: true},
        {name: 'site_id', label: 'Site ID in the trial', site: true},
        {name: 'anon_project', label: 'Anonymised project (where anonymisation imports sessions)', site: true},
        {name: 'trials', label: 'Trials offered (IDs, comma-separated; empty: all)', list: true},
        {name: 'share', label: 'Trial project to share uploads into'},
        {name: 'wrappers.validate', label: 'Validate wrapper', placeholder: 'sdu-validate-session'},
        {name: 'wrappers.relabel', label: 'Relabel wrapper', placeholder: 'sdu-relabel-session'},
        {name: 'wrappers.anonymise', label: 'Anonymise wrapper', placeholder: 'sdu-anonymise-session'},
        {name: 'wrappers.verify', label: 'Verify wrapper', placeholder: 'sdu-verify-session'},
        {name: 'wrappers.approve', label: 'Approve wrapper', placeholder: 'sdu-approve-session'},
        {name: 'wrappers.upload', label: 'Upload wrapper', placeholder: 'sdu-upload-session'}
    ];

    function configPath(project) {
        return (project ? '/data/projects/' + project : '/data') + '/config/sdu/settings';
    }

    function get(obj, dotted) {
        return dotted.split('.').reduce(function (o, k) { return o ? o[k] : undefined; }, obj);
    }

    function set(obj, dotted, value) {
        var keys = dotted.split('.'), last = keys.pop();
        keys.reduce(function (o, k) { return (o[k] = o[k] || {}); }, obj)[last] = value;
    }

    /** Draw the form into ``container``; ``project`` empty for the site settings. */
    sdu.settingsForm = function (container, project) {
        var form = document.createElement('form');
        form.className = 'sdu-settings';
        FIELDS.filter(function (f) { return !project || !f.site; }).forEach(function (f) {
            var label = document.createElement('label'), input = document.createElement('input');
            label.textContent = f.label;
            input.name = f.name;
            input.type = 'text';
            if (f.placeholder) input.placeholder = f.placeholder;
            label.appendChild(input);
            form.appendChild(label);
        });
        var save = document.createElement('button');
        save.type = 'submit';
        save.textContent = 'Save';
        form.appendChild(save);
        container.appendChild(form);

        XNAT.xhr.get({url: XNAT.url.rootUrl(configPath(project) + '?contents=true'), success: function (data) {
            var settings = typeof data === 'string' ? JSON.parse(data) : data;
            FIELDS.forEach(function (f) {
                var input = form.elements[f.name], value = get(settings, f.name);
                if (input && value !== undefined) input.value = f.list ? value.join(', ') : value;
            });
        }});
        form.addEventListener('submit', function (e) {
            e.preventDefault();
            var settings = {};
            FIELDS.forEach(function (f) {
                var input = form.elements[f.name];
                if (!input || !input.value.trim()) return;
                set(settings, f.name, f.list ? input.value.split(',').map(function (s) { return s.trim(); })
                    .filter(Boolean) : input.value.trim());
            });
            XNAT.xhr.put({
                url: XNAT.url.csrfUrl(configPath(project) + '?inbody=true'),
                data: JSON.stringify(settings), contentType: 'text/plain',
                success: function () { XNAT.ui.dialog.message('SDU settings', 'Saved.'); },
                error: function (xhr) { XNAT.ui.dialog.message('SDU settings', 'Not saved (HTTP ' + xhr.status + ').'); }
            });
        });
        return form;
    };
})();
