SET standard_conforming_strings = on;
SET client_encoding = 'UTF8';
SELECT E'it\'s';
