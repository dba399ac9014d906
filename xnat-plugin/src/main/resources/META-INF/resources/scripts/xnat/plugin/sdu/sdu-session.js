/*
 * SDU session panel: trial choice, validation, relabelling, anonymisation, review, approval and
 * upload of one image session, each step a Container Service launch of an SDU command wrapper,
 * each result read back from the resource the command wrote (names: CONTRACT in the README).
 *
 * Anonymisation may import the anonymised copy into another project (its SDU_ANONYMISE resource
 * then holds sdu-import.json naming it): verify, approve and upload are launched on, and read
 * from, that anonymised session.
 *
 * Uses the XNAT page globals only: XNAT.xhr (jQuery ajax), XNAT.url.rootUrl/csrfUrl,
 * XNAT.ui.dialog, XNAT.data.context, jQuery. Every value from a report goes into the page as
 * text (never as HTML), and from the anonymised side's reports only counts, tags, kinds and
 * pseudonymous IDs are shown, never element values.
 */
var XNAT = getObject(XNAT || {});

(function () {
    'use strict';

    XNAT.plugin = getObject(XNAT.plugin || {});
    var sdu = XNAT.plugin.sdu = getObject(XNAT.plugin.sdu || {});

    var STEPS = {
        validate: {wrapper: 'sdu-validate-session', resource: 'SDU_VALIDATION', file: 'sdu-report.validate.json'},
        relabel: {wrapper: 'sdu-relabel-session', resource: 'SDU_RELABEL', file: 'sdu-report.relabel.json'},
        anonymise: {wrapper: 'sdu-anonymise-session', resource: 'SDU_ANONYMISE', file: 'sdu-report.anonymise.json'},
        verify: {wrapper: 'sdu-verify-session', resource: 'SDU_VERIFY', file: 'sdu-report.verify.json', anon: true},
        approve: {wrapper: 'sdu-approve-session', resource: 'SDU_APPROVAL', file: 'sdu-approval.json', anon: true},
        upload: {wrapper: 'sdu-upload-session', resource: 'SDU_UPLOAD', file: 'sdu-upload.json', anon: true}
    };
    var IDENTIFIABLE_STEPS = ['validate', 'relabel', 'anonymise'], ANONYMISED_STEPS = ['verify', 'approve', 'upload'];
    /** Steps that change or send data: only users who may edit the project see them. */
    var EDIT_STEPS = ['validate', 'relabel', 'anonymise', 'verify', 'approve', 'upload'];
    var TRIAL_FIELD = 'sdu_trial';
    var POLL_MS = 400;

    sdu.STEPS = STEPS;

    // --- small helpers ----------------------------------------------------------------------
    function el(tag, attrs, children) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (k) {
            if (k === 'text') node.textContent = attrs[k];
            else if (k === 'className') node.className = attrs[k];
            else node.setAttribute(k, attrs[k]);
        });
        [].concat(children || []).forEach(function (c) {
            if (c === null || c === undefined) return;
            node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
        });
        return node;
    }

    function table(className, headers, rows) {
        return el('table', {className: 'sdu-table ' + (className || '')}, [
            el('thead', {}, el('tr', {}, headers.map(function (h) { return el('th', {text: h}); }))),
            el('tbody', {}, rows)
        ]);
    }

    function statusCell(status) {
        return el('td', {className: 'sdu-status sdu-' + status, text: status});
    }

    function ajax(method, url, body) {
        var opts = {url: url};
        if (body !== undefined) {
            opts.data = typeof body === 'string' ? body : JSON.stringify(body);
            opts.contentType = 'application/json';
        }
        return new Promise(function (resolve, reject) {
            opts.success = function (data) { resolve(data); };
            opts.error = function (xhr) { reject(xhr); };
            var call = {GET: XNAT.xhr.get, PUT: XNAT.xhr.put, POST: XNAT.xhr.post}[method];
            call(opts);
        });
    }

    function getJSON(path) {
        return ajax('GET', XNAT.url.rootUrl(path)).then(function (data) {
            return typeof data === 'string' ? JSON.parse(data) : data;
        });
    }

    function optionalJSON(path) {
        return getJSON(path).catch(function () { return null; });
    }

    function errorText(xhr) {
        if (!xhr) return 'unknown error';
        var body = xhr.responseJSON || null;
        if (!body && xhr.responseText) {
            try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        }
        var message = body && body.message ? body.message : (xhr.responseText || xhr.statusText || '');
        return 'HTTP ' + xhr.status + (message ? ': ' + String(message).slice(0, 300) : '');
    }

    // --- the panel ----------------------------------------------------------------------------
    function Panel(root) {
        this.root = root;
        this.session = root.getAttribute('data-session');
        this.project = root.getAttribute('data-project');
        this.canEdit = root.getAttribute('data-can-edit') === 'true';
        this.wrappers = {};
        this.protocols = [];
        this.reports = {};
        this.target = null;  // the anonymised session when anonymisation imported one elsewhere
        this.busy = false;
    }

    /** Where a step runs: this session, or for verify/approve/upload the anonymised one if any. */
    Panel.prototype.where = function (step) {
        var t = STEPS[step] && STEPS[step].anon && this.target;
        if (t) {
            var path = '/projects/' + t.project + '/subjects/' + t.subject + '/experiments/' + t.session;
            return {project: t.project, uri: '/archive' + path, rest: '/data' + path};
        }
        return {project: this.project, uri: '/archive/experiments/' + this.session,
                rest: '/data/experiments/' + this.session};
    };

    Panel.prototype.part = function (name) {
        return this.root.querySelector('[data-sdu="' + name + '"]');
    };

    Panel.prototype.say = function (text, kind) {
        var line = this.part('status');
        line.textContent = text;
        line.className = 'sdu-message sdu-' + (kind || 'info');
    };

    Panel.prototype.init = function () {
        var self = this;
        if (!self.canEdit) {
            // Read-only members: reports only. The buttons are removed, not just hidden; the
            // Container Service refuses their launches on the server anyway.
            EDIT_STEPS.forEach(function (step) {
                var button = self.root.querySelector('button[data-step="' + step + '"]');
                if (button) button.parentNode.removeChild(button);
            });
            self.part('trial').setAttribute('disabled', 'disabled');
            self.root.classList.add('sdu-read-only');
        }
        self.root.querySelectorAll('button[data-step]').forEach(function (button) {
            button.addEventListener('click', function () { self.run(button.getAttribute('data-step')); });
        });
        self.part('trial').addEventListener('change', function () { self.chooseTrial(this.value); });
        return self.loadWrappers()
            .then(function () { return Promise.all([self.loadTrials(), self.loadSession()]); })
            .then(function () { return self.loadReports(); })
            .then(function () { self.say('Ready.', 'info'); self.root.setAttribute('data-ready', 'true'); })
            .catch(function (xhr) { self.say('Could not load the SDU panel (' + errorText(xhr) + ')', 'error'); });
    };

    Panel.prototype.loadWrappers = function () {
        var self = this;
        // Settings (sdu-settings.js): the project's over the site's, key by key.
        return Promise.all([optionalJSON('/data/config/sdu/settings?contents=true'),
                            optionalJSON('/data/projects/' + self.project + '/config/sdu/settings?contents=true')])
            .then(function (found) {
                var site = found[0] || {}, project = found[1] || {};
                self.settings = $.extend(true, {}, site, project);
                return getJSON('/xapi/commands');
            })
            .then(function (commands) {
                var names = self.settings.wrappers || {};
                commands.forEach(function (cmd) {
                    (cmd.xnat || []).forEach(function (w) {
                        Object.keys(STEPS).forEach(function (step) {
                            if (w.name === (names[step] || STEPS[step].wrapper)) self.wrappers[step] = w.id;
                        });
                    });
                });
            });
    };

    /** Trials: the project's own list from the config service, else the jar's bundled protocols;
     *  narrowed to the trials the project offers (project settings). */
    Panel.prototype.loadTrials = function () {
        var self = this;
        return optionalJSON('/data/projects/' + self.project + '/config/sdu/protocols?contents=true')
            .then(function (own) {
                return own || getJSON('/scripts/xnat/plugin/sdu/protocols/index.json');
            })
            .then(function (index) {
                var offered = (self.settings && self.settings.trials) || [];
                self.protocols = (index.protocols || []).filter(function (p) {
                    return !offered.length || offered.indexOf(p.id) >= 0;
                });
                var select = self.part('trial');
                select.appendChild(el('option', {value: '', text: '- choose the trial -'}));
                self.protocols.forEach(function (p) {
                    select.appendChild(el('option', {value: p.id, text: p.id + ' v' + p.version + ' - ' + p.title}));
                });
                var arms = self.part('arm');
                arms.appendChild(el('option', {value: '', text: '(no arm)'}));
            });
    };

    Panel.prototype.loadSession = function () {
        var self = this;
        return getJSON('/data/experiments/' + self.session + '?format=json').then(function (doc) {
            var children = (doc.items && doc.items[0] && doc.items[0].children) || [];
            children.forEach(function (child) {
                if (child.field !== 'fields/field') return;
                child.items.forEach(function (item) {
                    if (item.data_fields.name === TRIAL_FIELD) self.trial = item.data_fields.field;
                });
            });
        });
    };

    Panel.prototype.showTrial = function () {
        var self = this, select = self.part('trial'), arms = self.part('arm');
        if (self.trial) select.value = self.trial;
        while (arms.options.length > 1) arms.remove(1);
        var protocol = self.protocols.filter(function (p) { return p.id === self.trial; })[0];
        (protocol ? protocol.arms : []).forEach(function (a) {
            arms.appendChild(el('option', {value: a.id, text: a.title || a.id}));
        });
        self.updateButtons();
    };

    /** Record the chosen trial on the session (custom field sdu_trial). */
    Panel.prototype.chooseTrial = function (trial) {
        var self = this;
        self.trial = trial;
        self.showTrial();
        if (!trial) return Promise.resolve();
        var field = 'xnat:experimentData/fields/field[name=' + TRIAL_FIELD + ']/field';
        return ajax('PUT', XNAT.url.csrfUrl('/data/experiments/' + self.session + '?' +
                                           encodeURIComponent(field) + '=' + encodeURIComponent(trial)))
            .then(function () { self.say('Trial ' + trial + ' recorded on the session.', 'info'); })
            .catch(function (xhr) { self.say('Could not record the trial (' + errorText(xhr) + ')', 'error'); });
    };

    Panel.prototype.loadReports = function () {
        var self = this;
        return self.loadFrom(IDENTIFIABLE_STEPS)
            .then(function () { return self.loadTarget(); })
            .then(function () { return self.loadFrom(ANONYMISED_STEPS); })
            .then(function () { self.showTrial(); });
    };

    /** The reports of ``steps`` whose resources exist on the session they run on. */
    Panel.prototype.loadFrom = function (steps) {
        var self = this;
        return optionalJSON(self.where(steps[0]).rest + '/resources?format=json').then(function (list) {
            var labels = ((list && list.ResultSet && list.ResultSet.Result) || []).map(function (r) { return r.label; });
            return Promise.all(steps.filter(function (step) {
                return labels.indexOf(STEPS[step].resource) >= 0;
            }).map(function (step) { return self.loadReport(step); }));
        });
    };

    /** The anonymised session anonymisation imported, if it did (SDU_ANONYMISE/sdu-import.json). */
    Panel.prototype.loadTarget = function () {
        var self = this;
        if (!self.reports.anonymise) return Promise.resolve();
        return self.file('anonymise', 'sdu-import.json').then(function (imported) {
            self.target = imported && imported.project && imported.session ? imported : null;
            self.render('anonymise');
        });
    };

    Panel.prototype.file = function (step, name) {
        return optionalJSON(this.where(step).rest + '/resources/' + STEPS[step].resource + '/files/' +
                            (name || STEPS[step].file));
    };

    Panel.prototype.loadReport = function (step) {
        var self = this;
        var extra = (step === 'verify' || step === 'approve') ? self.file(step, 'sdu-review.json') : Promise.resolve(null);
        var main = self.file(step);
        return Promise.all([main, extra]).then(function (found) {
            self.reports[step] = found[0];
            if (found[1]) self.reports.review = found[1];
            self.render(step);
            if (found[1]) self.render('review');
        });
    };

    Panel.prototype.updateButtons = function () {
        var self = this;
        var approved = self.reports.approve && !self.reports.approve.revoked;
        var need = {
            validate: !!self.trial, relabel: !!self.trial && !!self.root.querySelector('select[data-roi]'),
            anonymise: !!self.trial, verify: !!self.reports.anonymise,
            approve: !!(self.reports.verify && self.reports.verify.ok), upload: !!approved
        };
        Object.keys(need).forEach(function (step) {
            var button = self.root.querySelector('button[data-step="' + step + '"]');
            if (button) button.disabled = self.busy || !need[step];
        });
    };

    // --- launching ----------------------------------------------------------------------------
    Panel.prototype.inputs = function (step) {
        var arm = this.part('arm').value, inputs = {};
        if (step === 'validate') {
            inputs.trial = this.trial;
            if (arm) inputs.arm = arm;
        } else if (step === 'relabel') {
            var mapping = {};
            this.root.querySelectorAll('select[data-roi]').forEach(function (s) {
                if (s.value) mapping[s.getAttribute('data-roi')] = s.value;
            });
            if (!Object.keys(mapping).length) return null;
            inputs.trial = this.trial;
            inputs.mapping = JSON.stringify(mapping);
        } else if (step === 'anonymise') {
            inputs.trial = this.trial;
        } else if (step === 'approve') {
            inputs.comment = this.part('comment').value || '';
        } else if (step === 'upload' && this.settings && this.settings.share) {
            inputs.share = this.settings.share;
        }
        return inputs;
    };

    Panel.prototype.run = function (step) {
        var self = this, inputs = self.inputs(step);
        if (inputs === null) {
            self.say('Choose a new name for at least one structure first.', 'error');
            return Promise.resolve();
        }
        if (!self.wrappers[step]) {
            self.say('The ' + STEPS[step].wrapper + ' command is not installed or not enabled.', 'error');
            return Promise.resolve();
        }
        var where = self.where(step);
        var url = XNAT.url.csrfUrl('/xapi/projects/' + where.project + '/wrappers/' + self.wrappers[step] +
                                   '/root/session/launch');
        var params = $.extend({session: where.uri}, inputs);
        self.busy = true;
        self.updateButtons();
        self.say('Launching ' + step + '...', 'info');
        return ajax('POST', url, params)
            .then(function (report) {
                report = typeof report === 'string' ? JSON.parse(report) : report;
                if (report.status !== 'success') throw {status: 500, responseText: report.message};
                return self.follow(step, report['workflow-id']);
            })
            .then(function (workflow) {
                if (workflow.status !== 'Complete') {
                    self.say(step + ': ' + workflow.status, 'error');
                    return;
                }
                return self.loadReport(step).then(function () {
                    if (step === 'relabel') return self.run('validate');
                    if (step === 'anonymise') return self.afterAnonymise();
                    self.say(step + ': complete.', 'ok');
                });
            })
            .catch(function (xhr) { self.say(step + ' refused (' + errorText(xhr) + ')', 'error'); })
            .then(function () { self.busy = false; self.updateButtons(); });
    };

    /** A new anonymisation: the old verification, review, approval and upload no longer apply. */
    Panel.prototype.afterAnonymise = function () {
        var self = this;
        ANONYMISED_STEPS.concat(['review']).forEach(function (step) {
            delete self.reports[step];
            var target = self.part('report-' + step);
            target.textContent = '';
            target.classList.remove('sdu-has-report');
        });
        return self.loadTarget().then(function () { return self.loadFrom(ANONYMISED_STEPS); }).then(function () {
            self.say('anonymise: complete' + (self.target ? ': the anonymised session is ' + self.target.project +
                                              ' / ' + self.target.session : '') + '.', 'ok');
        });
    };

    /** Poll the launch's workflow until the Container Service says it finished. */
    Panel.prototype.follow = function (step, workflowId) {
        var self = this;
        return new Promise(function (resolve, reject) {
            (function poll() {
                getJSON('/xapi/workflows/' + workflowId).then(function (wf) {
                    if (wf.status === 'Queued' || wf.status === 'Running') {
                        self.say(step + ': ' + wf.status.toLowerCase() + '...', 'info');
                        setTimeout(poll, POLL_MS);
                    } else {
                        resolve(wf);
                    }
                }, reject);
            })();
        });
    };

    // --- rendering ----------------------------------------------------------------------------
    Panel.prototype.render = function (step) {
        var target = this.part('report-' + step), data = this.reports[step];
        if (!target || !data) return;
        target.textContent = '';
        target.appendChild((RENDER[step] || renderNothing).call(this, data));
        target.classList.add('sdu-has-report');
        this.updateButtons();
    };

    function renderNothing() { return el('span'); }

    function checkRows(checks) {
        return (checks || []).map(function (c) {
            return el('tr', {'data-check': c.id}, [el('td', {text: c.id}), statusCell(c.status), el('td', {text: c.reason})]);
        });
    }

    var RENDER = {
        /** Identifiable side: check IDs, statuses, reasons and ROI names (names XNAT shows anyway). */
        validate: function (r) {
            var self = this, trialNames = [];
            var box = el('div', {}, [
                el('h4', {text: 'Validation against ' + r.protocol.id + ' v' + r.protocol.version +
                               (r.protocol.arm ? ', arm ' + r.protocol.arm : '') + ': ' + r.result.toUpperCase()}),
                el('p', {className: 'sdu-' + r.result, text: r.counts.pass + ' passed, ' + r.counts.warn +
                                                             ' warnings, ' + r.counts.fail + ' failed'}),
                table('sdu-checks', ['check', 'result', 'reason'], checkRows(r.checks))
            ]);
            (r.roi_names || []).forEach(function (n) { if (n.structure) trialNames.push(n.structure); });
            var bad = (r.roi_names || []).filter(function (n) { return n.status !== 'standard'; });
            if (bad.length) {
                box.appendChild(el('h4', {text: 'ROI names to fix'}));
                box.appendChild(table('sdu-rois', ['ROI', 'problem', 'suggestion', 'why', 'rename to'],
                    bad.map(function (n) {
                        var best = n.suggestions && n.suggestions[0];
                        var choice = el('select', {'data-roi': n.roi_name, 'aria-label': 'new name for ' + n.roi_name},
                                        el('option', {value: '', text: '(keep)'}));
                        (n.suggestions || []).forEach(function (s) {
                            choice.appendChild(el('option', {value: s.name, text: s.name + ' (' + Math.round(s.score) + ')'}));
                        });
                        if (best) choice.value = best.name;
                        if (!self.canEdit) choice.setAttribute('disabled', 'disabled');
                        return el('tr', {'data-roi-row': n.roi_name}, [
                            el('td', {text: n.roi_name}),
                            el('td', {text: (n.findings || []).map(function (f) { return f.message; }).join('; ') || n.status}),
                            el('td', {className: 'sdu-suggestion', text: best ? best.name : 'none'}),
                            el('td', {className: 'sdu-explanation', text: best ? best.explanation : ''}),
                            el('td', {}, choice)
                        ]);
                    })));
            }
            return box;
        },
        relabel: function (r) {
            var renamed = r.renamed || {};
            return el('div', {}, [
                el('h4', {text: 'Relabelled'}),
                table('sdu-renamed', ['was', 'now'], Object.keys(renamed).map(function (old) {
                    return el('tr', {}, [el('td', {text: old}), el('td', {text: renamed[old]})]);
                }))
            ]);
        },
        /** The report that leaves with the data: counts, profile and outcome only. */
        anonymise: function (r) {
            var c = r.counts || {}, t = this.target;
            return el('div', {}, [
                t ? el('p', {className: 'sdu-target', text: 'Anonymised session (pseudonymous): ' + t.project + ' / ' +
                                                           t.subject + ' / ' + t.session}) : null,
                el('h4', {text: 'Anonymised: ' + (c.out !== undefined ? c.out : '?') + ' of ' +
                               (c['in'] !== undefined ? c['in'] : '?') + ' files, ' + (c.failed || 0) + ' failed'}),
                el('p', {text: 'Profile: ' + (r.profile || []).join(', ')}),
                el('p', {className: r.ok ? 'sdu-pass' : 'sdu-fail',
                         text: (r.ok ? 'Every file anonymised' : 'INCOMPLETE: some files could not be anonymised') +
                               ' (4 verifies the output independently and shows the review)'})
            ]);
        },
        /** Verifier findings name tags and kinds, never values; paths are not shown. */
        verify: function (r) {
            var rows = [];
            (r.files || []).forEach(function (f) {
                (f.findings || []).forEach(function (x) {
                    rows.push(el('tr', {}, [el('td', {text: f.modality || f.kind || ''}), el('td', {text: x.check}),
                                            el('td', {text: x.tag_path}), el('td', {text: x.keyword_path || ''}),
                                            el('td', {text: x.message})]));
                });
            });
            var box = el('div', {}, [
                el('h4', {className: r.ok ? 'sdu-pass' : 'sdu-fail',
                          text: 'Verification: ' + (r.ok ? 'PASSED' : 'FAILED') + ' (' + r.files_passed + ' of ' +
                                r.files_total + ' files pass; ' + r.findings_total + ' findings, ' +
                                r.warnings_total + ' warnings)'}),
                table('sdu-verify-checks', ['check', 'result'], (r.checks || []).map(function (c) {
                    return el('tr', {}, [el('td', {text: c}), statusCell(r.ok ? 'pass' : 'fail')]);
                }))
            ]);
            if (rows.length) box.appendChild(table('sdu-findings', ['object', 'check', 'tag', 'keyword', 'finding'], rows));
            return box;
        },
        /** What will leave: series and ROI counts, actions by code, per-tag outcomes - never values. */
        review: function (r) {
            var a = r.anonymisation || {};
            return el('div', {}, [
                el('h4', {text: 'Review: what will leave the site'}),
                el('p', {text: 'Ready to approve: ' + (r.ready_to_approve ? 'yes' : 'no') +
                               (a.profile ? '; profile: ' + a.profile.join(', ') : '')}),
                table('sdu-series', ['modality', 'series', 'files'], (r.series || []).map(function (s) {
                    return el('tr', {}, [el('td', {text: s.modality}), el('td', {text: s.series_number || ''}),
                                         el('td', {text: s.files})]);
                })),
                table('sdu-review-rois', ['ROI', 'type', 'contours'], [].concat.apply([], (r.rois || []).map(function (set) {
                    return set.rois.map(function (roi) {
                        return el('tr', {}, [el('td', {text: roi.name || ''}), el('td', {text: roi.type || ''}),
                                             el('td', {text: roi.contours})]);
                    });
                }))),
                table('sdu-actions', ['action', 'meaning', 'elements'], (a.actions || []).map(function (x) {
                    return el('tr', {}, [el('td', {text: x.code}), el('td', {text: x.meaning}), el('td', {text: x.count})]);
                })),
                table('sdu-tags', ['tag', 'keyword', 'action', 'outcome', 'with value', 'empty', 'absent'],
                      (r.tags || []).map(function (t) {
                          return el('tr', {}, [el('td', {text: t.tag}), el('td', {text: t.keyword}),
                                               el('td', {text: t.profile_action || ''}), el('td', {text: t.outcome}),
                                               el('td', {text: t.with_value}), el('td', {text: t.empty}),
                                               el('td', {text: t.absent})]);
                      }))
            ]);
        },
        approve: function (r) {
            var v = r.verification || {};
            var files = r.files !== undefined ? r.files : Object.keys(r.manifest || {}).length;
            return el('div', {}, [
                el('h4', {className: r.revoked ? 'sdu-fail' : 'sdu-pass',
                          text: (r.revoked ? 'Approval revoked' : 'Approved') + ' by ' + (r.xnat_user || r.user) +
                                ' at ' + r.time}),
                table('sdu-approval', ['', ''], [
                    el('tr', {}, [el('td', {text: 'files bound (SHA-256)'}), el('td', {text: files})]),
                    r.manifest_sha256 ? el('tr', {}, [el('td', {text: 'manifest'}),
                                                      el('td', {text: r.manifest_sha256.slice(0, 16)})]) : null,
                    r.verify_report_sha256 ? el('tr', {}, [el('td', {text: 'verification report'}),
                                                           el('td', {text: r.verify_report_sha256.slice(0, 16)})]) : null,
                    el('tr', {}, [el('td', {text: 'verification'}),
                                  el('td', {text: (v.ok === false ? 'FAILED' : 'passed') + ', ' + (v.warnings || 0) + ' warning(s)'})]),
                    r.seal ? el('tr', {}, [el('td', {text: 'sealed'}),
                                           el('td', {text: (r.seal.alg || '') + ' with the site key'})]) : null,
                    el('tr', {}, [el('td', {text: 'comment'}), el('td', {text: r.comment || ''})])
                ].filter(Boolean))
            ]);
        },
        upload: function (r) {
            return el('div', {}, [
                el('h4', {className: r.ok ? 'sdu-pass' : 'sdu-fail',
                          text: 'Uploaded to ' + r.project + (r.share ? ' (shared into ' + r.share + ')' : '') + ': ' +
                                r.files + ' files' + (r.resumed ? ' (resumed)' : '')}),
                table('sdu-upload-checks', ['checked in', 'files', 'expected', 'checksums', 'result'],
                      (r.checks || []).map(function (c) {
                          return el('tr', {}, [el('td', {text: c.where}), el('td', {text: c.files}),
                                               el('td', {text: c.expected}), el('td', {text: c.checksums_compared}),
                                               statusCell(c.ok ? 'pass' : 'fail')]);
                      }))
            ]);
        }
    };

    sdu.Panel = Panel;
    /** Start the panel in ``root`` (the template's #sdu-panel); answers a promise when loaded. */
    sdu.init = function (root) {
        var panel = new Panel(root || document.getElementById('sdu-panel'));
        sdu.panel = panel;
        return panel.init();
    };
})();
