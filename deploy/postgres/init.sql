-- One database and one login per regional aggregator: a region's facts never share a
-- database with another region's. Passwords are set by the operator (ALTER ROLE … PASSWORD) and go into deploy/secrets/*.env.
CREATE ROLE aggregator_afr LOGIN;
CREATE ROLE aggregator_apg LOGIN;
CREATE ROLE aggregator_eeg LOGIN;
CREATE ROLE aggregator_grulac LOGIN;
CREATE ROLE aggregator_weog LOGIN;
CREATE DATABASE dief_afr OWNER aggregator_afr;
CREATE DATABASE dief_apg OWNER aggregator_apg;
CREATE DATABASE dief_eeg OWNER aggregator_eeg;
CREATE DATABASE dief_grulac OWNER aggregator_grulac;
CREATE DATABASE dief_weog OWNER aggregator_weog;
-- The Secretariat's database (digests as received, CSP summaries): its own login too.
CREATE ROLE secretariat LOGIN;
CREATE DATABASE dief_secretariat OWNER secretariat;
