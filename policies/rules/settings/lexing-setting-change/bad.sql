SET standard_conforming_strings = off;
SELECT 'x\' , ' ; DROP TABLE victim; --';
