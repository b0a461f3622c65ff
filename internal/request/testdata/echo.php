<?php
// Prints what PHP parsed, flattened to [keys..., value] lists with
// hex-encoded bytes (mamori's differential tests compare it with the
// request view).
function flat($a, $prefix, &$out) {
    foreach ($a as $k => $v) {
        $p = $prefix; $p[] = bin2hex((string)$k);
        if (is_array($v)) { flat($v, $p, $out); } else { $p[] = bin2hex((string)$v); $out[] = $p; }
    }
}
$g = []; flat($_GET, [], $g);
$p = []; flat($_POST, [], $p);
$c = []; flat($_COOKIE, [], $c);
$f = []; foreach ($_FILES as $k => $v) { $f[] = bin2hex((string)$k); }
header('Content-Type: application/json');
echo json_encode(['get' => $g, 'post' => $p, 'cookie' => $c, 'files' => $f,
    'script' => $_SERVER['SCRIPT_NAME'] ?? '', 'path_info' => $_SERVER['PATH_INFO'] ?? '']);
