-- sitcen database as the code of commit 6801139cb83e6810e94453a7ebda5c611064f44b made it
-- (2026-12-06 Idempotency-Key on every changing request (issue 16, server side): the first answer kept )
-- migrations recorded: 0001_initial, 0002_peers_agreements_leases, 0003_received_events, 0004_records_retractions, 0005_seen_batches, 0006_analysis_results, 0007_cursors, 0008_queue_stays, 0009_files, 0010_accounts, 0011_audit_log, 0012_legal_holds, 0013_second_factors, 0014_journal_epochs, 0015_idempotency_keys
-- made by scripts/make_schema_fixture.py; loaded by tests/test_upgrades.py
-- users' password: correct-horse-battery-staple-42
-- dialect: sqlite
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE agreements (
	id VARCHAR(128) NOT NULL, 
	version INTEGER NOT NULL, 
	document TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE analysis_results (
	name VARCHAR(64) NOT NULL, 
	computed_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE audit_log (
	seq BIGINT NOT NULL, 
	at BIGINT NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, seq);
CREATE TABLE border_sections (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	name_ru TEXT NOT NULL, 
	country_a VARCHAR(2) NOT NULL, 
	country_b VARCHAR(2) NOT NULL, 
	length_km FLOAT NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	geometry TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE cursors (
	name VARCHAR(128) NOT NULL, 
	position BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE event_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE events (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	type VARCHAR(48) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	occurred_at BIGINT NOT NULL, 
	reported_at BIGINT, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT, 
	lat FLOAT, 
	cell INTEGER, 
	section_id VARCHAR(64), 
	country VARCHAR(2), 
	impact_level VARCHAR(16), 
	status VARCHAR(16), 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE TABLE files (
	sha256 VARCHAR(64) NOT NULL, 
	size BIGINT NOT NULL, 
	media_type VARCHAR(100) NOT NULL, 
	content BLOB NOT NULL, 
	thumbnail BLOB, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sha256)
);
CREATE TABLE idempotency_keys (
	username VARCHAR(64) NOT NULL, 
	"key" VARCHAR(200) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	status INTEGER, 
	headers TEXT, 
	body BLOB, 
	PRIMARY KEY (username, "key")
);
CREATE TABLE journal (
	seq INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE journal_epochs (
	epoch INTEGER NOT NULL, 
	first_seq BIGINT NOT NULL, 
	started_at BIGINT NOT NULL, 
	backup TEXT NOT NULL, 
	recovered_at BIGINT, 
	recovery TEXT, 
	PRIMARY KEY (epoch)
);
CREATE TABLE leases (
	name VARCHAR(128) NOT NULL, 
	holder VARCHAR(128) NOT NULL, 
	expires_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE legal_holds (
	id VARCHAR(36) NOT NULL, 
	scope VARCHAR(16) NOT NULL, 
	value VARCHAR(128) NOT NULL, 
	reason TEXT NOT NULL, 
	held_by VARCHAR(64) NOT NULL, 
	held_at BIGINT NOT NULL, 
	released_by VARCHAR(64), 
	released_at BIGINT, 
	PRIMARY KEY (id)
);
CREATE TABLE login_failures (
	"key" VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_at BIGINT NOT NULL, 
	blocked_until BIGINT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE peers (
	node_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	public_key TEXT NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	agreement_id VARCHAR(128), 
	acked_seq BIGINT NOT NULL, 
	received_seq BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (node_id)
);
CREATE TABLE personal_data (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_personal_data_event ON personal_data (event_id);
CREATE TABLE queue_stays (
	event_id VARCHAR(36) NOT NULL, 
	level VARCHAR(32) NOT NULL, 
	round INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	entered_at BIGINT NOT NULL, 
	left_at BIGINT, 
	state VARCHAR(16) NOT NULL, 
	acted_by VARCHAR(64), 
	acted_node VARCHAR(64), 
	act_id VARCHAR(36), 
	note TEXT, 
	priority SMALLINT NOT NULL, 
	late BOOLEAN NOT NULL, 
	awaiting_correction BOOLEAN NOT NULL, 
	PRIMARY KEY (event_id, level, round)
);
CREATE INDEX ix_queue_stays_left ON queue_stays (left_at);
CREATE INDEX ix_queue_stays_queue ON queue_stays (level, state, priority, entered_at, event_id);
CREATE TABLE record_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE records (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	subject VARCHAR(128), 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_records_kind_subject ON records (kind, subject, recorded_at);
CREATE TABLE retractions (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	provenance TEXT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE second_factors (
	username VARCHAR(64) NOT NULL, 
	sealed_secret TEXT NOT NULL, 
	confirmed BOOLEAN NOT NULL, 
	last_step BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
CREATE TABLE seen_batches (
	sender VARCHAR(128) NOT NULL, 
	batch_id VARCHAR(36) NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sender, batch_id)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
	kind VARCHAR(16), 
	address VARCHAR(64), 
	PRIMARY KEY (token_hash)
);
CREATE INDEX ix_tokens_username ON tokens (username);
CREATE TABLE users (
	username VARCHAR(64) NOT NULL, 
	full_name TEXT NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash TEXT NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
-- dialect: postgresql
CREATE TABLE agreements (
	id VARCHAR(128) NOT NULL, 
	version INTEGER NOT NULL, 
	document TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE analysis_results (
	name VARCHAR(64) NOT NULL, 
	computed_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE audit_log (
	seq BIGINT NOT NULL, 
	at BIGINT NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, seq);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE border_sections (
	id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	name_ru TEXT NOT NULL, 
	country_a VARCHAR(2) NOT NULL, 
	country_b VARCHAR(2) NOT NULL, 
	length_km FLOAT NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	geometry TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE cursors (
	name VARCHAR(128) NOT NULL, 
	position BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE event_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE events (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	type VARCHAR(48) NOT NULL, 
	category VARCHAR(32) NOT NULL, 
	occurred_at BIGINT NOT NULL, 
	reported_at BIGINT, 
	recorded_at BIGINT NOT NULL, 
	lon FLOAT, 
	lat FLOAT, 
	cell INTEGER, 
	section_id VARCHAR(64), 
	country VARCHAR(2), 
	impact_level VARCHAR(16), 
	status VARCHAR(16), 
	handling VARCHAR(16) NOT NULL, 
	follow_up_of VARCHAR(36), 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_events_cell_time ON events (cell, occurred_at, id);
CREATE INDEX ix_events_follow_up ON events (follow_up_of) WHERE follow_up_of IS NOT NULL;
CREATE INDEX ix_events_section_time ON events (section_id, occurred_at, id);
CREATE INDEX ix_events_time ON events (occurred_at, id);
CREATE TABLE files (
	sha256 VARCHAR(64) NOT NULL, 
	size BIGINT NOT NULL, 
	media_type VARCHAR(100) NOT NULL, 
	content BYTEA NOT NULL, 
	thumbnail BYTEA, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sha256)
);
CREATE TABLE idempotency_keys (
	username VARCHAR(64) NOT NULL, 
	key VARCHAR(200) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	status INTEGER, 
	headers TEXT, 
	body BYTEA, 
	PRIMARY KEY (username, key)
);
CREATE TABLE journal (
	seq BIGSERIAL NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	record_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE journal_epochs (
	epoch SERIAL NOT NULL, 
	first_seq BIGINT NOT NULL, 
	started_at BIGINT NOT NULL, 
	backup TEXT NOT NULL, 
	recovered_at BIGINT, 
	recovery TEXT, 
	PRIMARY KEY (epoch)
);
CREATE TABLE leases (
	name VARCHAR(128) NOT NULL, 
	holder VARCHAR(128) NOT NULL, 
	expires_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE legal_holds (
	id VARCHAR(36) NOT NULL, 
	scope VARCHAR(16) NOT NULL, 
	value VARCHAR(128) NOT NULL, 
	reason TEXT NOT NULL, 
	held_by VARCHAR(64) NOT NULL, 
	held_at BIGINT NOT NULL, 
	released_by VARCHAR(64), 
	released_at BIGINT, 
	PRIMARY KEY (id)
);
CREATE TABLE login_failures (
	key VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_at BIGINT NOT NULL, 
	blocked_until BIGINT NOT NULL, 
	PRIMARY KEY (key)
);
CREATE TABLE peers (
	node_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	public_key TEXT NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	agreement_id VARCHAR(128), 
	acked_seq BIGINT NOT NULL, 
	received_seq BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (node_id)
);
CREATE TABLE personal_data (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_personal_data_event ON personal_data (event_id);
CREATE TABLE queue_stays (
	event_id VARCHAR(36) NOT NULL, 
	level VARCHAR(32) NOT NULL, 
	round INTEGER NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	entered_at BIGINT NOT NULL, 
	left_at BIGINT, 
	state VARCHAR(16) NOT NULL, 
	acted_by VARCHAR(64), 
	acted_node VARCHAR(64), 
	act_id VARCHAR(36), 
	note TEXT, 
	priority SMALLINT NOT NULL, 
	late BOOLEAN NOT NULL, 
	awaiting_correction BOOLEAN NOT NULL, 
	PRIMARY KEY (event_id, level, round)
);
CREATE INDEX ix_queue_stays_left ON queue_stays (left_at);
CREATE INDEX ix_queue_stays_queue ON queue_stays (level, state, priority, entered_at, event_id);
CREATE TABLE record_versions (
	id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id, version)
);
CREATE TABLE records (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	subject VARCHAR(128), 
	recorded_at BIGINT NOT NULL, 
	body TEXT NOT NULL, 
	provenance TEXT, 
	sharing TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_records_kind_subject ON records (kind, subject, recorded_at);
CREATE TABLE retractions (
	id VARCHAR(36) NOT NULL, 
	origin VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	provenance TEXT NOT NULL, 
	recorded_at BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE schema_migrations (
	name VARCHAR(128) NOT NULL, 
	applied_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE second_factors (
	username VARCHAR(64) NOT NULL, 
	sealed_secret TEXT NOT NULL, 
	confirmed BOOLEAN NOT NULL, 
	last_step BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
CREATE TABLE seen_batches (
	sender VARCHAR(128) NOT NULL, 
	batch_id VARCHAR(36) NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (sender, batch_id)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	created_at BIGINT NOT NULL, 
	expires_at BIGINT NOT NULL, 
	kind VARCHAR(16), 
	address VARCHAR(64), 
	PRIMARY KEY (token_hash)
);
CREATE INDEX ix_tokens_username ON tokens (username);
CREATE TABLE users (
	username VARCHAR(64) NOT NULL, 
	full_name TEXT NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash TEXT NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (username)
);
-- dialect: all
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (1, 1796575384900658, 'op.one', 'login', '01506610cbb5e734', '{"address":"testclient","kind":"bearer","method":"password","second_factor_setup":false}', '0000000000000000000000000000000000000000000000000000000000000000', 'c4152680328608ca727646eca630ab7d705ae65778f23384f9932518ad59c320');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (2, 1796575385300047, 'duty.one', 'login', 'edc1bc2b22b7a5c8', '{"address":"testclient","kind":"bearer","method":"password","second_factor_setup":false}', 'c4152680328608ca727646eca630ab7d705ae65778f23384f9932518ad59c320', '65ff5b50f45dad0c9c04fa44dd534bda5e8ecd1fdcd49714322c74e25ad6676c');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (3, 1796575385773794, 'admin', 'login', '7e59d79d027c88b4', '{"address":"testclient","kind":"bearer","method":"password","second_factor_setup":false}', '65ff5b50f45dad0c9c04fa44dd534bda5e8ecd1fdcd49714322c74e25ad6676c', '64db1c67d3c770992b6b0e8f011e47dfc57089e23bf6efaf32204cdd56183154');
INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (4, 1796575388521389, 'duty.one', 'login_failed', 'duty.one', '{"address":"testclient","blocked_s":0}', '64db1c67d3c770992b6b0e8f011e47dfc57089e23bf6efaf32204cdd56183154', '24adf9ea495a0646c7a5c8cf897e352ed68ffb25a1aebf81087e90648a809d63');
INSERT INTO border_sections (id, name, name_ru, country_a, country_b, length_km, source, geometry) VALUES ('AF-TJ-003', 'Afghanistan–Tajikistan section 3', 'Афганистан–Таджикистан, участок 3', 'AF', 'TJ', 51.0, 'default', '{"type":"LineString","coordinates":[[68.496,37.1612],[68.5141,37.1645],[68.5249,37.1645],[68.5321,37.1695],[68.5465,37.1881],[68.5501,37.1932],[68.5717,37.1948],[68.6077,37.2033],[68.6257,37.2067],[68.6293,37.2134],[68.6365,37.2303],[68.6473,37.2438],[68.6725,37.2472],[68.6653,37.259],[68.6617,37.2641],[68.6581,37.2675],[68.6689,37.2776],[68.6869,37.2793],[68.7265,37.2742],[68.7481,37.2759],[68.7589,37.2759],[68.7697,37.2708],[68.8093,37.2523],[68.8201,37.2506],[68.8237,37.2607],[68.8237,37.2827],[68.8093,37.3114],[68.8129,37.3232],[68.8345,37.3299],[68.8558,37.3249]]}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 1, 1796575385894778, '{"id":"6a2f489a-f89a-4cd9-aa32-4e141c4b845b","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:43:05.894778Z","recorded_at":"2026-12-06T16:43:05.894778Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":12.5,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO event_versions (id, version, recorded_at, body) VALUES ('6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 2, 1796575385932454, '{"id":"6a2f489a-f89a-4cd9-aa32-4e141c4b845b","origin":"tj-panj-post","version":2,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:43:05.894778Z","recorded_at":"2026-12-06T16:43:05.932454Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"reported"}');
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('16c00f42-c444-40d8-b2c7-32a91e10619c', 'tj-panj-post', 1, 'drug_smuggling', 'cross_border_crime', 1795167000000000, 1796575385945997, 1796575385945997, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'medium', 'reported', 'AMBER', '6a2f489a-f89a-4cd9-aa32-4e141c4b845b', '{"id":"16c00f42-c444-40d8-b2c7-32a91e10619c","origin":"tj-panj-post","version":1,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:43:05.945997Z","recorded_at":"2026-12-06T16:43:05.945997Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":"6a2f489a-f89a-4cd9-aa32-4e141c4b845b","has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"drug_smuggling","occurred_at":"2026-11-20T09:30:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"medium","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"substance":"heroin","quantity":3.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Second cache found upstream","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('5754a755-3c3c-4fcd-83a8-47966280241a', 'tj-panj-post', 1, 'green_border_crossing', 'unauthorised_crossing', 1795140600000000, 1796575385910308, 1796575385910308, 68.66, 37.2, 183377, 'AF-TJ-003', 'TJ', 'low', 'reported', 'GREEN', NULL, '{"id":"5754a755-3c3c-4fcd-83a8-47966280241a","origin":"tj-panj-post","version":1,"category":"unauthorised_crossing","country":"TJ","reported_at":"2026-12-06T16:43:05.910308Z","recorded_at":"2026-12-06T16:43:05.910308Z","section_id":"AF-TJ-003","section_distance_km":3.086,"follow_up_of":null,"has_personal_data":false,"recorded_by":{"username":"op.one","full_name":"Operator One"},"type":"green_border_crossing","occurred_at":"2026-11-20T02:10:00Z","location":{"lon":68.66,"lat":37.2,"precision_m":200.0},"impact_level":"low","confidence":{"source_reliability":"B","information_credibility":2},"handling":"GREEN","details":{"stage":"attempted","direction":"exit"},"persons":[{"nationality":"TJ","sex":"male","age_group":"adult","count":3}],"transport":"on_foot","modus_operandi":[],"reaction":["apprehended"],"description":"Three crossing at night","status":"reported"}', NULL, NULL);
INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, follow_up_of, body, provenance, sharing) VALUES ('6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 'tj-panj-post', 3, 'drug_smuggling', 'cross_border_crime', 1795146000000000, 1796575385894778, 1796575385941232, 68.6, 37.22, 183377, 'AF-TJ-003', 'TJ', 'high', 'validated', 'AMBER', NULL, '{"id":"6a2f489a-f89a-4cd9-aa32-4e141c4b845b","origin":"tj-panj-post","version":3,"category":"cross_border_crime","country":"TJ","reported_at":"2026-12-06T16:43:05.894778Z","recorded_at":"2026-12-06T16:43:05.941232Z","section_id":"AF-TJ-003","section_distance_km":1.974,"follow_up_of":null,"has_personal_data":true,"recorded_by":{"username":"duty.one","full_name":"Duty Officer One"},"type":"drug_smuggling","occurred_at":"2026-11-20T03:40:00Z","location":{"lon":68.6,"lat":37.22,"precision_m":50.0},"impact_level":"high","confidence":{"source_reliability":"B","information_credibility":2},"handling":"AMBER","details":{"direction":"entry","substance":"heroin","quantity":14.0,"unit":"kg"},"persons":[{"nationality":"AF","sex":"male","age_group":"adult","count":2}],"transport":"boat","modus_operandi":["river_crossing"],"reaction":["apprehended","seized"],"description":"Два курьера задержаны при переправе через Пяндж","status":"validated"}', NULL, NULL);
-- dialect: sqlite
INSERT INTO idempotency_keys (username, key, fingerprint, created_at, status, headers, body) VALUES ('op.one', 'fixture-report-1', '9fbb7e73d49b7733ec130e6b5dd63bc58787fc224225f9d6985c245797b5a995', 1796575385793168, 201, '[["content-type","application/json"]]', X'7b226964223a2236613266343839612d663839612d346364392d616133322d346531343163346238343562222c2276657273696f6e223a312c2273656374696f6e5f6964223a2241462d544a2d303033222c2273656374696f6e5f64697374616e63655f6b6d223a312e3937347d');
-- dialect: postgresql
INSERT INTO idempotency_keys (username, key, fingerprint, created_at, status, headers, body) VALUES ('op.one', 'fixture-report-1', '9fbb7e73d49b7733ec130e6b5dd63bc58787fc224225f9d6985c245797b5a995', 1796575385793168, 201, '[["content-type","application/json"]]', '\x7b226964223a2236613266343839612d663839612d346364392d616133322d346531343163346238343562222c2276657273696f6e223a312c2273656374696f6e5f6964223a2241462d544a2d303033222c2273656374696f6e5f64697374616e63655f6b6d223a312e3937347d'::bytea);
-- dialect: all
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (1, 'tj-panj-post', '6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 1, 'event', 1796575385895594);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (2, 'tj-panj-post', 'beceb01e-5b82-4f29-90a3-8b103223ed61', 1, 'personal_data', 1796575385895594);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (3, 'tj-panj-post', '5754a755-3c3c-4fcd-83a8-47966280241a', 1, 'event', 1796575385910976);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (4, 'tj-panj-post', '6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 2, 'event', 1796575385933399);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (5, 'tj-panj-post', '6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 3, 'event', 1796575385942117);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (6, 'tj-panj-post', '16c00f42-c444-40d8-b2c7-32a91e10619c', 1, 'event', 1796575385947089);
INSERT INTO journal (seq, origin, record_id, version, kind, recorded_at) VALUES (7, 'tj-panj-post', 'c2e6cdad-f2f6-48c7-bde4-b3277a715a95', 1, 'asset_position', 1796575388059804);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('address:testclient', 1, 1796575388518777, 1796575388518777);
INSERT INTO login_failures (key, failures, last_at, blocked_until) VALUES ('user:duty.one', 1, 1796575388518777, 1796575388518777);
INSERT INTO peers (node_id, name, url, public_key, relation, agreement_id, acked_seq, received_seq, created_at, updated_at) VALUES ('tj-dushanbe-centre', 'Dushanbe centre', 'https://centre.example:8443', 'ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg', 'parent', NULL, 0, 0, 1796575388063682, 1796575388063682);
INSERT INTO personal_data (id, origin, version, event_id, recorded_at, body) VALUES ('beceb01e-5b82-4f29-90a3-8b103223ed61', 'tj-panj-post', 1, '6a2f489a-f89a-4cd9-aa32-4e141c4b845b', 1796575385894778, '{"event_id":"6a2f489a-f89a-4cd9-aa32-4e141c4b845b","subjects":[{"role":"suspect","full_name":"Иванов Иван","nationality":"AF","document_kind":"passport","document_number":"AB1234567"}]}');
INSERT INTO records (id, origin, version, kind, subject, recorded_at, body, provenance, sharing) VALUES ('c2e6cdad-f2f6-48c7-bde4-b3277a715a95', 'tj-panj-post', 1, 'asset_position', 'patrol-7', 1796575388059580, '{"asset_id":"patrol-7","kind":"patrol","name":"Patrol 7","status":"active","location":{"lon":68.62,"lat":37.21},"at":"2026-11-20T08:00:00Z","section_id":"AF-TJ-003","country":"TJ","handling":"AMBER"}', NULL, NULL);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_initial', 1796575382351473);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0002_peers_agreements_leases', 1796575382352347);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0003_received_events', 1796575382352907);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0004_records_retractions', 1796575382353498);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0005_seen_batches', 1796575382353708);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0006_analysis_results', 1796575382358036);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0007_cursors', 1796575382358373);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0008_queue_stays', 1796575382359003);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0009_files', 1796575382359199);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0010_accounts', 1796575382359496);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0011_audit_log', 1796575382360024);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0012_legal_holds', 1796575382360191);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0013_second_factors', 1796575382360341);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0014_journal_epochs', 1796575382360488);
INSERT INTO schema_migrations (name, applied_at) VALUES ('0015_idempotency_keys', 1796575382360644);
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('01506610cbb5e73403daf6876f07b699c23a6e28667ac5f1fd870d31e8c45b47', 'op.one', 1796575384899557, 1796618584899557, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('7e59d79d027c88b48d4a1425e4a573efdb0628ce3254244830007bcd0695ebc2', 'admin', 1796575385773297, 1796618585773297, 'bearer', 'testclient');
INSERT INTO tokens (token_hash, username, created_at, expires_at, kind, address) VALUES ('edc1bc2b22b7a5c8e542e39530dc3cfccc18cba36d9c90194606ab6ad26e5dfe', 'duty.one', 1796575385299559, 1796618585299559, 'bearer', 'testclient');
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('admin', 'Node Administrator', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$uNGsmPQTpNE+sk52u2J3Lg$zEsUQZfj+Gy7ooivImW7496vctXraImIn42jNyReS9w', FALSE, 1796575383324473);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('duty.one', 'Duty Officer One', 'duty_officer', '$argon2id$v=19$m=65536,t=3,p=4$eeWJgNR8izM9Lp/at8lgKA$2NmQwKhCYR0uq6gm7EhplZkUJJTZQLzfaywRRZQwKiY', FALSE, 1796575384341603);
INSERT INTO users (username, full_name, role, password_hash, disabled, created_at) VALUES ('op.one', 'Operator One', 'operator', '$argon2id$v=19$m=65536,t=3,p=4$JppMQZvSVOqCXxaElQbxbw$jVWDpSKLx/eofvP54YamWcmd1zSr7gyQoVamHdYBIdA', FALSE, 1796575383854931);
-- dialect: postgresql
SELECT setval(pg_get_serial_sequence('journal', 'seq'), (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal), false);
SELECT setval(pg_get_serial_sequence('journal_epochs', 'epoch'), (SELECT COALESCE(MAX(epoch), 0) + 1 FROM journal_epochs), false);
